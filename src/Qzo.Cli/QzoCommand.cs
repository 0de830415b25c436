using System.CommandLine;
using Qzo.Cli.Commands;

namespace Qzo.Cli;

/// <summary>The `qzo` command tree (Program.cs runs it; the device test binary embeds it too).</summary>
public static class QzoCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("""
            Qzo: fine-tune quantized language models with zeroth-order optimization (QZO: only the quantization
            scales train, from two forward passes per step; no gradients, no optimizer state).
            Start with `qzo demo`; every verb has --help.
            """)
        {
            // Help and usage say `qzo` whatever runs it: Qzo.Cli.dll, the apphost copy, the .NET tool's shim or qzo-device.
            HelpName = "qzo",
        };
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(SynthCommand.Create());
        root.Subcommands.Add(PrepareCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(FinetuneCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ImagineCommand.Create());
        root.Subcommands.Add(TasksCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(SampleCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }

    /// <summary>
    /// Parses and runs; a command line that does not parse (an unknown option, a value out of its range) stops with one
    /// line per error and exit code 1, without the help text (`--help` prints it).
    /// </summary>
    public static int Run(string[] args)
    {
        var parsed = Build().Parse(args);
        if (parsed.Errors.Count == 0 || parsed.Action is System.CommandLine.Help.HelpAction) return parsed.Invoke();
        Console.Error.WriteLine($"error: {string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.')))}");
        return 1;
    }
}
