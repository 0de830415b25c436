using System.CommandLine;
using System.Text.Json.Nodes;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Training;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class FinetuneCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Checkpoint folder (config.json, *.safetensors, tokenizer.json); GPTQ for qzo, unquantized for mezo" };
        var train = new Option<string>("--train") { Description = "Training examples (JSONL; see README for the row forms)", Required = true };
        var validation = new Option<string?>("--validation") { Description = "Held-out examples, evaluated every --eval-every steps and at both ends; the best checkpoint by loss is kept" };
        var output = new Option<string?>("--out") { Description = "Folder for the tuned checkpoint, in the input's format (omit to train without saving)" };
        var method = new Option<string>("--method") { Description = "qzo: train the GPTQ scales (Q-SPSA); mezo: train every weight of an unquantized checkpoint", DefaultValueFactory = _ => "qzo" };
        var steps = new Option<int>("--steps") { Description = "Training steps (each = two forward passes)", DefaultValueFactory = _ => 20_000 };
        var lr = new Option<float>("--lr") { Description = "Learning rate η", DefaultValueFactory = _ => 1e-7f };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: constant or linear (decay to 0)", DefaultValueFactory = _ => "constant" };
        var eps = new Option<float>("--eps") { Description = "Perturbation size ε (absolute)", DefaultValueFactory = _ => 1e-3f };
        var clip = new Option<float>("--clip") { Description = "DDC threshold C: the directional derivative is clipped to [-C, C]", DefaultValueFactory = _ => 100f };
        var noClip = new Option<bool>("--no-clip") { Description = "Turn directional derivative clipping off" };
        var floor = new Option<float>("--scale-floor") { Description = "Scales are kept ≥ this after each update (paper: 0; official code: 1e-7)", DefaultValueFactory = _ => 0f };
        var batch = CommonOptions.BatchSize(16);
        var evalEvery = new Option<int>("--eval-every") { Description = "Evaluate on --validation every N steps (0: only at the ends)", DefaultValueFactory = _ => 4_000 };
        var maxLength = CommonOptions.MaxLength();
        var seed = new Option<ulong>("--seed") { Description = "Run seed; step t uses seed SplitMix64(seed + t)", DefaultValueFactory = _ => 0UL };
        var metrics = new Option<string?>("--metrics") { Description = "metrics.jsonl path (default: <out>.metrics.jsonl, or none without --out)" };
        var json = new Option<string?>("--json") { Description = "Write a summary (before/after metrics, timing, memory) as JSON" };
        var keepLast = new Option<bool>("--keep-last") { Description = "Save the last state instead of the best by validation loss" };
        var trainUnquantized = new Option<bool>("--train-unquantized") { Description = "qzo: also train embeddings, norms, lm_head and biases MeZO-style" };
        var control = new Option<bool>("--random-sign-control") { Description = "Control experiment: same step sizes along the same directions, random signs" };
        var limitTrain = new Option<int?>("--limit-train") { Description = "Use only the first N training examples" };
        var limitValidation = new Option<int?>("--limit-validation") { Description = "Use only the first N validation examples" };
        var template = CommonOptions.Template();
        var verbalizers = CommonOptions.Verbalizers();
        var device = CommonOptions.Device();
        var force = CommonOptions.Force();

        var command = new Command("finetune", "Fine-tune a checkpoint with QZO (quantization scales) or MeZO (all weights), then save it in its own format")
        {
            model, train, validation, output, method, steps, lr, schedule, eps, clip, noClip, floor, batch, evalEvery, maxLength, seed,
            metrics, json, keepLast, trainUnquantized, control, limitTrain, limitValidation, template, verbalizers, device, force,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            var zoMethod = r.GetValue(method) switch
            {
                "qzo" => ZoMethod.Qzo, "mezo" => ZoMethod.Mezo,
                var other => throw new QzoException($"--method must be qzo or mezo, got '{other}'"),
            };
            var options = new ZoOptions
            {
                Method = zoMethod,
                Steps = r.GetValue(steps),
                LearningRate = r.GetValue(lr),
                Schedule = r.GetValue(schedule) switch
                {
                    "constant" => LearningRateSchedule.Constant, "linear" => LearningRateSchedule.Linear,
                    var other => throw new QzoException($"--schedule must be constant or linear, got '{other}'"),
                },
                Epsilon = r.GetValue(eps),
                ClipThreshold = r.GetValue(noClip) ? null : r.GetValue(clip),
                ScaleFloor = r.GetValue(floor),
                BatchSize = r.GetValue(batch),
                EvalEvery = r.GetValue(evalEvery),
                Seed = r.GetValue(seed),
                TrainUnquantized = r.GetValue(trainUnquantized),
                RandomSignControl = r.GetValue(control),
            };
            options.Validate();
            var request = new FinetuneJob.Request(r.GetValue(model)!, r.GetValue(train)!, r.GetValue(validation), r.GetValue(output),
                options, r.GetValue(maxLength), CommonOptions.Classification(r.GetValue(template), r.GetValue(verbalizers)),
                r.GetValue(metrics), !r.GetValue(keepLast), r.GetValue(force), r.GetValue(limitTrain), r.GetValue(limitValidation));
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!);
            var result = FinetuneJob.Run(request, backend);
            if (r.GetValue(json) is string path) Qzo.IO.AtomicFile.WriteAllText(path, result.ToJson().ToJsonString(new() { WriteIndented = true }) + "\n");
        }));
        return command;
    }
}
