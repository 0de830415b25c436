using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.Generation;
using Qzo.Models;

namespace Qzo.Cli.Commands;

static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Checkpoint folder" + HubArguments.ModelHelp };
        var revision = HubArguments.Revision();
        var prompt = new Option<string[]>("--prompt") { Description = "A prompt to continue (repeat for several)" };
        var promptsFile = new Option<string?>("--prompts") { Description = "Prompts from a JSONL file of {\"prompt\": \"...\"} rows" };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate per prompt",
            DefaultValueFactory = _ => 32 }.Positive();
        var sample = new Option<bool>("--sample") { Description = "Sample instead of greedy decoding" };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature",
            DefaultValueFactory = _ => 1f }.Positive();
        var topP = new Option<float>("--top-p")
            { Description = "Sample from the smallest set of most likely tokens whose probability reaches p",
            DefaultValueFactory = _ => 1f }.Range(v => v > 0 && v <= 1, "in (0, 1]");
        var topK = new Option<int>("--top-k") { Description = "Sample from the k most likely tokens (0: all)",
            DefaultValueFactory = _ => 0 }.NonNegative();
        var seed = new Option<ulong>("--seed")
            { Description = "Sampling seed (a prompt's draws depend on it, the prompt's place and the step only)",
            DefaultValueFactory = _ => 0UL };
        var stop = new Option<string[]>("--stop")
            { Description = "End a continuation where this text appears, and cut it there (repeat for several)" };
        var batch = new Option<int>("--batch-size") { Description = "Prompts decoded together (left-padded)",
            DefaultValueFactory = _ => 8 }.Positive();
        var json = new Option<string?>("--json")
            { Description = "Also write the continuations (text, token ids, stop reason) to this JSON file" };
        var device = CommonOptions.Device();
        var force = CommonOptions.Force();
        var command = new Command("generate", "Continue prompts with the model (greedy or sampled, KV cache, stops at EOS or --stop)")
        {
            model, revision, prompt, promptsFile, maxNew, sample, temperature, topP, topK, seed, stop, batch, json, device, force,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            string modelPath = HubArguments.Model(r.GetValue(model)!, r.GetValue(revision));
            using var outputs = CommonOptions.Outputs();
            outputs.Input(modelPath, "the model").Input(r.GetValue(promptsFile), "the prompts");
            string? jsonPath = outputs.File(r.GetValue(json), "--json", r.GetValue(force));
            var prompts = Prompts(r.GetValue(prompt) ?? [], r.GetValue(promptsFile));
            var options = new GenerationOptions
            {
                MaxNewTokens = r.GetValue(maxNew), Greedy = !r.GetValue(sample), Temperature = r.GetValue(temperature),
                TopP = r.GetValue(topP), TopK = r.GetValue(topK), Seed = r.GetValue(seed), StopStrings = r.GetValue(stop) ?? [],
                BatchSize = r.GetValue(batch),
            };
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!);
            using var session = ProgressDisplay.Run("loading", report =>
                ModelSession.Open(modelPath, backend, TrainingScope.None, new Progress<double>(f => report(f, null))));
            var clock = Stopwatch.StartNew();
            var results = ProgressDisplay.Run("generating", report =>
                TextGeneration.Generate(session.Model, session.Tokenizer, prompts, options,
                    new Progress<int>(done => report((double)done / prompts.Count, null))));
            double seconds = clock.Elapsed.TotalSeconds;

            for (int i = 0; i < results.Count; i++)
            {
                Console.WriteLine($"--- [{i + 1}/{results.Count}] {results[i].StopReason}, {results[i].TokenIds.Length} tokens");
                Console.WriteLine(results[i].Text);
            }
            int tokens = results.Sum(g => g.TokenIds.Length);
            Console.Error.WriteLine(
                $"{tokens} tokens for {results.Count} prompts in {seconds:F2} s ({tokens / Math.Max(seconds, 1e-9):F1} tokens/s) on " +
                $"{backend.Name}");
            if (jsonPath is not null)
                Qzo.IO.AtomicFile.WriteAllText(jsonPath, new JsonArray(results.Select((g, i) => (JsonNode)new JsonObject
                {
                    ["prompt"] = prompts[i], ["text"] = g.Text,
                        ["token_ids"] = new JsonArray(g.TokenIds.Select(id => (JsonNode)id).ToArray()),
                    ["stop_reason"] = g.StopReason,
                }).ToArray()).ToJsonString(new() { WriteIndented = true }) + "\n");
        }));
        return command;
    }

    static IReadOnlyList<string> Prompts(string[] given, string? file)
    {
        if ((given.Length > 0) == (file is not null)) throw new QzoException(
            "give the prompts with --prompt TEXT (repeatable) or --prompts FILE.jsonl, one of the two");
        return file is null ? given : ReadJsonl(file);
    }

    static List<string> ReadJsonl(string path)
    {
        var prompts = new List<string>();
        foreach (var (line, row) in Qzo.IO.JsonlFile.ReadObjects(path, "prompts file"))
            prompts.Add(row["prompt"] is JsonNode p && p.GetValueKind() == JsonValueKind.String ? p.GetValue<string>()
                : throw new QzoException($"{path}:{line}: expected a JSON object with a string \"prompt\""));
        if (prompts.Count == 0) throw new QzoException($"{path}: no prompts");
        return prompts;
    }
}
