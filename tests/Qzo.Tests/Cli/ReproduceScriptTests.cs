using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Qzo.Hub;
using Qzo.Tasks.Definitions;

namespace Qzo.Tests.Cli;

/// <summary>
/// scripts/reproduce.sh and its rows file scripts/paper-rows.tsv (docs/reproduce.md): every row is complete, the doc lists
/// exactly the rows the file holds, a row run offline stops at qzo's one line naming the file the cache lacks, and a bad id
/// gives one line. Nothing reaches the network: HF_HUB_OFFLINE=1 and an empty HF_HOME.
/// </summary>
public partial class ReproduceScriptTests
{
    static readonly string[] Columns =
    [
        "id", "table", "model", "method", "task", "hub_model", "revision", "dataset", "subset", "lr", "eps", "steps", "batch", "clip",
        "extra", "metric", "paper", "memory_gib", "time", "basis",
    ];

    static string Root()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "Qzo.sln"))) return folder.FullName;
        throw new InvalidOperationException($"no Qzo.sln above {AppContext.BaseDirectory}");
    }

    static List<Dictionary<string, string>> Rows()
    {
        var lines = File.ReadAllLines(Path.Combine(Root(), "scripts", "paper-rows.tsv"));
        var header = lines[0].Split('\t');
        Assert.Equal(Columns, header);
        return lines.Skip(1).Select((line, i) =>
        {
            var fields = line.Split('\t');
            Assert.True(fields.Length == header.Length, $"row {i + 2} has {fields.Length} fields, the header {header.Length}");
            return header.Zip(fields).ToDictionary(p => p.First, p => p.Second);
        }).ToList();
    }

    static double Number(Dictionary<string, string> row, string column)
    {
        Assert.True(double.TryParse(row[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double value),
                    $"{row["id"]}: {column} '{row[column]}' is no number");
        return value;
    }

    [Fact]
    public void EveryRowHasTheFieldsTheScriptNeeds()
    {
        var rows = Rows();
        Assert.Equal(85, rows.Count); // Table 1: 3 models × 5 methods × 5 tasks; Table 3: 2 methods × 5 tasks
        Assert.Equal(rows.Count, rows.Select(r => r["id"]).Distinct().Count());
        string doc = File.ReadAllText(Path.Combine(Root(), "docs", "reproduce.md"));
        var tasks = TaskCatalog.BuiltIn.ToDictionary(t => t.Name);
        foreach (var row in rows)
        {
            string id = row["id"];
            Assert.All(row, field => Assert.False(string.IsNullOrWhiteSpace(field.Value), $"{id}: {field.Key} is empty"));
            Assert.Matches(IdPattern(), id);
            Assert.Contains(row["table"], new[] { "1", "3" });
            Assert.True(tasks.TryGetValue(row["task"], out var task), $"{id}: no built-in task {row["task"]}");
            Assert.Equal(task!.MetricName, row["metric"]);
            Assert.InRange(Number(row, "paper"), 0, 100);
            Assert.True(HubRepo.TryParse(row["dataset"], HubRepoType.Dataset, out _), $"{id}: dataset {row["dataset"]}");
            Assert.Matches(BoldLegendFor(row["basis"]), doc);
            switch (row["method"])
            {
                case "qzo" or "mezo":
                    Assert.True(HubRepo.TryParse(row["hub_model"], HubRepoType.Model, out _), $"{id}: model {row["hub_model"]}");
                    Assert.Equal(1e-7, Number(row, "lr"));
                    Assert.Equal(1e-3, Number(row, "eps"));
                    Assert.Equal(20000, Number(row, "steps"));
                    Assert.Equal(16, Number(row, "batch"));
                    Assert.Equal(row["method"] == "qzo" ? "100" : "off", row["clip"]);
                    Assert.InRange(Number(row, "memory_gib"), 1, 80);
                    break;
                case "zero-shot" or "zero-shot-q":
                    Assert.True(HubRepo.TryParse(row["hub_model"], HubRepoType.Model, out _), $"{id}: model {row["hub_model"]}");
                    Assert.Equal(16, Number(row, "batch"));
                    Assert.InRange(Number(row, "memory_gib"), 1, 80);
                    break;
                case "sgd":
                    Assert.Equal("-", row["hub_model"]);
                    break;
                default:
                    Assert.Fail($"{id}: method {row["method"]}");
                    break;
            }
            Assert.EndsWith($"-{row["task"]}-{row["method"]}", id);
        }
    }

    [Fact]
    public void TheDocListsExactlyTheRowsOfTheFileAsTheScriptPrintsThem()
    {
        string doc = File.ReadAllText(Path.Combine(Root(), "docs", "reproduce.md"));
        const string begin = "<!-- rows: made by", end = "<!-- rows: end -->";
        int start = doc.IndexOf('\n', doc.IndexOf(begin, StringComparison.Ordinal)) + 1;
        string section = doc[start..doc.IndexOf(end, StringComparison.Ordinal)];

        var listed = DocRowId().Matches(section).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(Rows().Select(r => r["id"]), listed);
        Assert.Equal(listed.Count, listed.Distinct().Count());

        var generated = Script(new Dictionary<string, string?>(), "--markdown");
        Assert.True(generated.ExitCode == 0, generated.ToString());
        Assert.Equal(generated.Stdout, section);
    }

    [Fact]
    public void ARowRunOfflineStopsAtTheOneLineNamingTheFileTheCacheLacks()
    {
        using var folder = new TempFolder();
        var cases = new[]
        {
            ("opt-6.7b-gptq4-sst2-qzo", Path.Combine("models--iproskurina--opt-6.7b-GPTQ-4bit-g128", "refs", "main"), "+ qzo finetune"),
            ("opt-6.7b-16bit-rte-zero-shot", Path.Combine("models--facebook--opt-6.7b", "refs", "refs", "pr", "31"), "+ qzo eval"),
        };
        foreach (var (id, missing, command) in cases)
        {
            var r = Script(Offline(folder), id, "--device", "cpu");
            var line = CliAssert.FailsWithOneLine(new CliProcess.Result(r.ExitCode, r.Stdout, r.Stderr), "HF_HUB_OFFLINE");
            Assert.Contains($"(no {Path.Combine(folder["hf"], "hub", missing)})", line);
            Assert.StartsWith(command + " ", r.Stdout);
            Assert.Contains($"--run {Path.Combine(folder["runs"], id)} --device cpu", r.Stdout);
        }
        Assert.False(Directory.Exists(folder["runs"]), "an offline row left a run folder behind");

        // No network and HF_HUB_OFFLINE unset: qzo tries the Hub (here a port where nothing listens) and says what is missing.
        var noNetwork = new Dictionary<string, string?>(Offline(folder))
            { ["HF_HUB_OFFLINE"] = null, ["HF_ENDPOINT"] = "http://127.0.0.1:9" };
        var unreachable = Script(noNetwork, "llama-2-13b-aqlm2-cb-zero-shot-q", "--device", "cpu");
        var said = CliAssert.FailsWithOneLine(new CliProcess.Result(unreachable.ExitCode, unreachable.Stdout, unreachable.Stderr),
            "cannot reach http://127.0.0.1:9");
        Assert.Contains($"(no {Path.Combine(folder["hf"], "hub", "models--ISTA-DASLab--Llama-2-13b-AQLM-2Bit-1x16-hf", "refs", "main")})",
                        said);
        Assert.False(Directory.Exists(folder["runs"]));
    }

    [Fact]
    public void AnUnknownRowIdOrARowQzoCannotRunGivesOneClearLine()
    {
        using var folder = new TempFolder();
        var unknown = Script(Offline(folder), "llama-2-7b-gptq4-sst3-qzo");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal("", unknown.Stdout);
        Assert.Equal("reproduce.sh: no row 'llama-2-7b-gptq4-sst3-qzo' in scripts/paper-rows.tsv " +
                     "(bash scripts/reproduce.sh --list shows the 85 ids)", unknown.Stderr.TrimEnd('\n'));

        var sgd = Script(Offline(folder), "llama-2-7b-16bit-sst2-sgd");
        Assert.Equal(2, sgd.ExitCode);
        var lines = sgd.Stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains("Qzo does not do", lines[0]);
        Assert.Contains("accuracy 92.8", lines[0]);
        Assert.False(Directory.Exists(folder["runs"]));
    }

    static Dictionary<string, string?> Offline(TempFolder folder) => new()
    {
        ["HF_HUB_OFFLINE"] = "1", ["HF_HOME"] = folder["hf"], ["HF_HUB_CACHE"] = null, ["HUGGINGFACE_HUB_CACHE"] = null,
        ["HF_TOKEN"] = null, ["HF_ENDPOINT"] = null, ["QZO_RUNS"] = folder["runs"],
        ["QZO"] = $"{Dotnet} {Path.Combine(AppContext.BaseDirectory, "Qzo.Cli.dll")}",
    };

    static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    static CliProcess.Result Script(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Root(),
        };
        info.ArgumentList.Add(Path.Combine(Root(), "scripts", "reproduce.sh"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment)
            if (value is null) info.Environment.Remove(name);
            else info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) { process.Kill(true); throw new TimeoutException(string.Join(' ', args)); }
        return new CliProcess.Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    static Regex BoldLegendFor(string basis) => new($@"\*\*[^*\n]*\b{Regex.Escape(basis)}\b[^*\n]*\*\*");

    [GeneratedRegex(@"^[a-z0-9.]+(-[a-z0-9.]+)+$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^\| `([^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex DocRowId();
}
