using System.Text;
using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Tests.Models;
using Qzo.Tests.Tasks;

namespace Qzo.Tests.Cli;

/// <summary>A model and a finished task run, made once; each case works on copies.</summary>
public sealed class BadInputListFixture : IDisposable
{
    readonly TempFolder folder = new();

    public BadInputListFixture()
    {
        Model = TinyModels.Gptq(folder);
        Run = folder["run"];
        CliProcess.Ok("finetune", Model, "--task", "sst2", "--data", TaskFixtures.Jsonl("sst2"), "--num-train", "16", "--num-dev", "4",
                      "--num-eval", "4", "--steps", "2", "--checkpoint-every", "1", "--no-save", "--run", Run, "--device", "cpu");
    }

    public string Model { get; }
    public string Run { get; }

    public void Dispose() => folder.Dispose();
}

/// <summary>
/// Broken, mistyped or non-UTF-8 user files across the readers (task definitions, config.json, tokenizer.json, run
/// folders, run state): each must be exit code 1 with exactly one "error: " line naming the file, never an internal error.
/// </summary>
public class BadInputListTests(BadInputListFixture shared) : IClassFixture<BadInputListFixture>
{
    public static TheoryData<string> Cases =>
    [
        "task-json-duplicate-key", "task-yaml-alias-cycle", "task-yaml-alias-explosion", "task-yaml-not-utf8",
        "config-duplicate-key", "config-not-utf8", "tokenizer-vocab-id-is-a-string", "tokenizer-not-utf8",
        "report-results-wrong-type", "report-results-not-an-object-where-one-is-expected",
        "resume-state-not-json", "resume-state-wrong-type", "resume-state-missing-key", "resume-state-negative-step",
        "resume-state-past-the-last-step", "resume-state-nan-values", "resume-test-before-wrong-type",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void FailsWithOneErrorLineNamingTheFile(string name)
    {
        using var folder = new TempFolder();
        var (args, file) = Setup(name, folder);
        CliAssert.FailsWithOneLine(CliProcess.Run(args), file);
    }

    (string[] Args, string File) Setup(string name, TempFolder folder)
    {
        string Write(string file, string text) { File.WriteAllText(folder[file], text); return folder[file]; }
        string WriteBytes(string file, byte[] bytes) { File.WriteAllBytes(folder[file], bytes); return folder[file]; }
        string data = TeacherData.Write(folder["data.jsonl"], rows: 2, length: 6, vocab: 320, seed: 1);

        switch (name)
        {
            case "task-json-duplicate-key":
                return (["tasks", Write("mood.json", """{"name": "a", "name": "b", "kind": "generation"}""")], folder["mood.json"]);
            case "task-yaml-alias-cycle":
                return (["tasks", Write("cycle.yaml", "&a [*a]\n")], folder["cycle.yaml"]);
            case "task-yaml-alias-explosion":
                var lines = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
                for (int i = 1; i < 8; i++) lines.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
                return (["tasks", Write("laughs.yaml", lines.ToString())], folder["laughs.yaml"]);
            case "task-yaml-not-utf8":
                return (["tasks", WriteBytes("latin1.yaml", [.. "name: caf"u8, 0xE9, .. "\nkind: generation\n"u8])],
                    folder["latin1.yaml"] + ":1: not valid UTF-8");

            case "config-duplicate-key":
            {
                string model = CopyOf(shared.Model, folder["model"]);
                string config = Path.Combine(model, "config.json");
                File.WriteAllText(config, File.ReadAllText(config).Replace("\"vocab_size\"", "\"vocab_size\": 320, \"vocab_size\""));
                return (["eval", model, "--data", data, "--device", "cpu"], config);
            }
            case "config-not-utf8":
            {
                string model = CopyOf(shared.Model, folder["model"]);
                string config = Path.Combine(model, "config.json");
                string text = File.ReadAllText(config);
                int at = text.IndexOf("\"silu\"", StringComparison.Ordinal);
                File.WriteAllBytes(config,
                    [.. Encoding.ASCII.GetBytes(text[..at]), .. "\"sil"u8, 0xFC, .. Encoding.ASCII.GetBytes(text[(at + 5)..])]);
                return (["eval", model, "--data", data, "--device", "cpu"],
                    $"{config}:{text[..at].Count(c => c == '\n') + 1}: not valid UTF-8");
            }
            case "tokenizer-vocab-id-is-a-string":
            {
                string model = CopyOf(shared.Model, folder["model"]);
                string tokenizer = Path.Combine(model, "tokenizer.json");
                TinyModels.EditJson(tokenizer, t => t["model"]!["vocab"] = new JsonObject { ["a"] = "b" });
                return (["tokenize", "--tokenizer", model, "hello"], tokenizer);
            }
            case "tokenizer-not-utf8":
            {
                string model = CopyOf(shared.Model, folder["model"]);
                string tokenizer = Path.Combine(model, "tokenizer.json");
                File.WriteAllBytes(tokenizer, [.. "{\"model\": \"caf"u8, 0xE9, .. "\"}"u8]);
                return (["tokenize", "--tokenizer", model, "hello"], tokenizer + ":1: not valid UTF-8");
            }

            case "report-results-wrong-type":
            {
                string run = CopyOf(shared.Run, folder["run"]);
                TinyModels.EditJson(Path.Combine(run, "results.json"), r => r["metric"] = 5);
                return (["report", run], Path.Combine(run, "results.json"));
            }
            case "report-results-not-an-object-where-one-is-expected":
            {
                string run = CopyOf(shared.Run, folder["run"]);
                TinyModels.EditJson(Path.Combine(run, "results.json"), r => r["peak_bytes"] = 12);
                return (["report", run], Path.Combine(run, "results.json"));
            }

            case "resume-state-not-json": return Resume(folder, _ => "{not json");
            case "resume-state-wrong-type": return Resume(folder, s => { s["step"] = "x"; return s.ToJsonString(); });
            case "resume-state-missing-key": return Resume(folder, s => { s.Remove("trainable"); return s.ToJsonString(); });
            case "resume-state-negative-step": return Resume(folder, s => { s["step"] = -5; return s.ToJsonString(); });
            case "resume-state-past-the-last-step": return Resume(folder, s => { s["step"] = 99999; return s.ToJsonString(); });
            case "resume-state-nan-values":
            {
                var (args, state) = Resume(folder, s => s.ToJsonString());
                string tensor;
                using (var file = SafetensorsFile.Open(state)) tensor = file.Tensors.First(t => t.Name.StartsWith("values/")).Name;
                using (var file = SafetensorsFile.Open(state))
                {
                    var bytes = file.GetBytes(tensor).ToArray();
                    BitConverter.GetBytes(float.NaN).CopyTo(bytes, 0);
                    SafetensorsWriter.WriteReplacing(file, state, new Dictionary<string, ReadOnlyMemory<byte>> { [tensor] = bytes });
                }
                return (args, state);
            }
            case "resume-test-before-wrong-type":
            {
                var (args, _) = Resume(folder, s => s.ToJsonString());
                string testBefore = Path.Combine(args[2], "test_before.json");
                TinyModels.EditJson(testBefore, t => t["examples"] = "x");
                return (args, testBefore);
            }
            default: throw new ArgumentException(name);
        }
    }

    /// <summary>An unfinished copy of the shared run whose state metadata is rewritten by <paramref name="edit"/>.</summary>
    (string[] Args, string State) Resume(TempFolder folder, Func<JsonObject, string> edit)
    {
        string run = CopyOf(shared.Run, folder["run"]);
        File.Delete(Path.Combine(run, "results.json"));
        string state = Path.Combine(run, "state.safetensors");
        List<TensorToWrite> tensors;
        string metadata;
        using (var file = SafetensorsFile.Open(state))
        {
            tensors = file.Tensors.Select(t => new TensorToWrite(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray())).ToList();
            metadata = file.Metadata["qzo_run_state"];
        }
        SafetensorsWriter.Write(state, tensors,
            new Dictionary<string, string> { ["qzo_run_state"] = edit(JsonNode.Parse(metadata)!.AsObject()) });
        return (["finetune", "--resume", run, "--device", "cpu"], state);
    }

    static string CopyOf(string source, string destination)
    {
        foreach (var dir in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(dir.Replace(source, destination));
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(source, destination));
        return destination;
    }
}
