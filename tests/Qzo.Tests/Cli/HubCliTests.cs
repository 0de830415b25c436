using System.Text.Json.Nodes;
using Qzo.Tests.Hub;
using Qzo.Tests.Models;
using Qzo.Tests.Tasks;

namespace Qzo.Tests.Cli;

/// <summary>`qzo finetune org/name --task sst2 --data glue --subset sst2` against a fake Hub, then from the cache offline.</summary>
public class HubCliTests
{
    static Dictionary<string, byte[]> FilesOf(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), File.ReadAllBytes);

    [Fact]
    public void FinetuneAndEvalTakeHubModelAndDatasetIds()
    {
        using var folder = new TempFolder();
        using var hub = new FakeHub { Token = "hf_cli" };
        string commit = hub.Commit("models/org/tiny", "main", FilesOf(TinyModels.Dense(folder)));
        hub.Commit("datasets/glue", "main", new Dictionary<string, byte[]> { ["README.md"] = HubFixtures.Text("# glue") });
        string export = hub.Commit("datasets/glue", "refs/convert/parquet", new Dictionary<string, byte[]>
        {
            ["sst2/train/0000.parquet"] = File.ReadAllBytes(TaskFixtures.ParquetFile("sst2", "train")),
            ["sst2/validation/0000.parquet"] = File.ReadAllBytes(TaskFixtures.ParquetFile("sst2", "validation")),
        });
        File.WriteAllText(folder["token"], "hf_cli\n");
        var online = new Dictionary<string, string>
        {
            ["HF_HOME"] = folder["home"], ["HF_HUB_CACHE"] = folder["cache"], ["HF_TOKEN_PATH"] = folder["token"],
            ["HF_ENDPOINT"] = hub.Endpoint, ["HF_TOKEN"] = "", ["HF_HUB_OFFLINE"] = "",
        };
        string[] common = ["--task", "sst2", "--data", "glue", "--subset", "sst2", "--num-train", "40", "--num-dev", "8",
                           "--num-eval", "16", "--device", "cpu"];
        var tuned = CliProcess.Run(online,
            ["finetune", "org/tiny", .. common, "--method", "mezo", "--steps", "2", "--run", folder["tune"], "--no-save"]);
        Assert.True(tuned.ExitCode == 0, tuned.ToString());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder["tune"], "config.json")))!;
        Assert.Equal(Path.Combine(folder["cache"], "models--org--tiny", "snapshots", commit), (string)config["model"]!);
        Assert.Equal(Path.Combine(folder["cache"], "datasets--glue", "snapshots", export, "sst2"), (string)config["data"]!["folder"]!);
        Assert.All(hub.Log.Where(r => r.Host == "127.0.0.1"), r => Assert.Equal("Bearer hf_cli", r.Authorization));

        // Offline, with the Hub gone: everything comes from the cache.
        hub.Dispose();
        var offline = new Dictionary<string, string>(online) { ["HF_HUB_OFFLINE"] = "1" };
        var evaluated = CliProcess.Run(offline, ["eval", "org/tiny", "--revision", "main", .. common, "--run", folder["eval"]]);
        Assert.True(evaluated.ExitCode == 0, evaluated.ToString());
        Assert.Equal(16, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(folder["eval"], "results.json")))!["test"]!["examples"]!);

        CliAssert.FailsWithOneLine(CliProcess.Run(offline, "inspect", "org/absent"),
            "org/absent: no such folder, and Hub model org/absent (revision main) is not in the cache", "HF_HUB_OFFLINE");
        CliAssert.FailsWithOneLine(CliProcess.Run(offline, "eval", "org/tiny", "--task", "sst2", "--data", "glue", "--subset", "cola"),
            "Hub dataset glue, subset 'cola'", "not in the cache");
    }
}
