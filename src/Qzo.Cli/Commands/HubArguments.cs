using System.CommandLine;
using Qzo.Hub;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>
/// Model and dataset arguments that may name the Hugging Face Hub (docs/hub.md): a path that exists is used as it is;
/// "org/name" is taken from the local Hugging Face cache, downloading what is missing.
/// </summary>
static class HubArguments
{
    public const string ModelHelp = "; or a Hub model id (org/name), from the Hugging Face cache or downloaded into it";

    public static Option<string?> Revision() => new("--revision")
        { Description = "With a Hub model id: the branch, tag or commit to use (default main)" };

    /// <summary>The folder for a model argument (unchanged when it is a path or no Hub id).</summary>
    public static string Model(string argument, string? revision) =>
        HubModels.Folder(argument, revision, HubSettings.FromEnvironment(), new HubProgress());

    /// <summary>The folder for a task's --data (unchanged when it is a path or no Hub id), holding the splits the run reads.</summary>
    public static string Data(string argument, string? subset, string? revision, string sampling) =>
        HubDatasets.Folder(argument, subset, revision, sampling == "splits" ? ["train", "validation", "test"] : ["train", "validation"],
                           HubSettings.FromEnvironment(), new HubProgress());

    sealed class HubProgress : IHubProgress
    {
        public void File(string name, long size, Action<Action<long>> transfer) =>
            ProgressDisplay.Run($"downloading {name}", report =>
                transfer(bytes => report(size == 0 ? 1 : bytes / (double)size,
                                         $"{CommonOptions.Bytes(bytes)} of {CommonOptions.Bytes(size)}")));

        public void Note(string line) => AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(line)}");
    }
}
