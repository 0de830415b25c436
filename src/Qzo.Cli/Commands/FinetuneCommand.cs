using System.CommandLine;
using Qzo.Cli.Runs;
using Qzo.Models.Pipeline;
using Qzo.Tasks.Definitions;
using Qzo.Training;

namespace Qzo.Cli.Commands;

static class FinetuneCommand
{
    public static Command Create()
    {
        var model = new Argument<string?>("model")
            {
                Description = "Checkpoint folder (config.json, *.safetensors, tokenizer.json); quantized (GPTQ, NF4/FP4, AQLM) for " +
                              "qzo, unquantized for mezo",
                Arity = ArgumentArity.ZeroOrOne,
            };
        model.Description += HubArguments.ModelHelp;
        var revision = HubArguments.Revision();
        var train = new Option<string?>("--train")
            { Description = "Training examples (JSONL; see README for the row forms); or use --task and --data" };
        var validation = new Option<string?>("--validation")
            { Description = "Held-out examples, evaluated every --eval-every steps and at both ends; the best checkpoint by loss is kept" };
        var output = new Option<string?>("--out")
            { Description = "Folder for the tuned checkpoint, in the input's format (omit to train without saving)" };
        var method = new Option<string>("--method")
            { Description = "qzo: train the quantization scales (Q-SPSA); mezo: train every weight of an unquantized checkpoint",
            DefaultValueFactory = _ => "qzo" };
        var steps = new Option<int>("--steps")
            { Description = "Training steps (each = two forward passes); with --task, the task's default",
            DefaultValueFactory = _ => 20_000 }.NonNegative();
        var lr = new Option<float>("--lr") { Description = "Learning rate η", DefaultValueFactory = _ => 1e-7f }.Positive();
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: constant or linear (decay to 0)",
            DefaultValueFactory = _ => "constant" };
        var eps = new Option<float>("--eps") { Description = "Perturbation size ε (absolute)",
            DefaultValueFactory = _ => 1e-3f }.Positive();
        var clip = new Option<float>("--clip")
            { Description = "DDC threshold C: the directional derivative is clipped to [-C, C] (with --task and mezo: off unless given)",
            DefaultValueFactory = _ => 100f }.Positive();
        var noClip = new Option<bool>("--no-clip") { Description = "Turn directional derivative clipping off" };
        var floor = new Option<float>("--scale-floor")
            { Description = "Scales are kept ≥ this after each update (paper: 0; official code: 1e-7)",
            DefaultValueFactory = _ => 0f }.NonNegative();
        var batch = CommonOptions.BatchSize(16);
        var evalEvery = new Option<int>("--eval-every")
            { Description = "Evaluate on the validation data every N steps (0: only at the ends)",
            DefaultValueFactory = _ => 4_000 }.NonNegative();
        var maxLength = CommonOptions.MaxLength();
        var seed = new Option<ulong>("--seed") { Description = "Run seed; step t uses seed SplitMix64(seed + t)",
            DefaultValueFactory = _ => 0UL };
        var metrics = new Option<string?>("--metrics")
            { Description = "metrics.jsonl path (default: <out>.metrics.jsonl, or none without --out)" };
        var json = new Option<string?>("--json") { Description = "Write a summary (before/after metrics, timing, memory) as JSON" };
        var keepLast = new Option<bool>("--keep-last")
            { Description = "Save the last state instead of the best by validation loss (or task metric)" };
        var trainUnquantized = new Option<bool>("--train-unquantized")
            { Description = "qzo: also train embeddings, norms, lm_head and biases MeZO-style" };
        var control = new Option<bool>("--random-sign-control")
            { Description = "Control experiment: same step sizes along the same directions, random signs" };
        var directions = new Option<int>("--directions")
            { Description = "Directions probed per step (K), seeds derived from the step seed, estimates averaged; each costs two " +
                            "forward passes", DefaultValueFactory = _ => 1 }.Positive();
        var compute = CommonOptions.Compute();
        var compareCompute = new Option<string?>("--compare-compute")
            { Description = "With --task or --images: evaluate each step's two losses in this precision too (fp8), on the same batch and " +
                            "direction, and report how well its estimates d' track the run's (results.json, compare_compute); " +
                            "two more forward passes a step" };
        var limitTrain = new Option<int?>("--limit-train") { Description = "Use only the first N training examples" }.Positive();
        var limitValidation = new Option<int?>("--limit-validation")
            { Description = "Use only the first N validation examples" }.Positive();
        var template = CommonOptions.Template();
        var verbalizers = CommonOptions.Verbalizers();
        var device = CommonOptions.Device();
        var force = CommonOptions.Force();
        var task = new TaskOptions();
        var evalBatch = new Option<int?>("--eval-batch-size")
            { Description = "With --task: examples per evaluation forward pass (default: --batch-size)" }.Positive();
        var checkpointEvery = new Option<int>("--checkpoint-every")
            { Description = "With --task: save the run state to the run folder every N steps", DefaultValueFactory = _ => 500 }.Positive();
        var resume = new Option<string?>("--resume")
            { Description =
            "Go on with a killed --task run from its last checkpoint (RUN folder; every setting comes from its config.json)" };
        var noSave = new Option<bool>("--no-save") { Description = "With --task: do not write the tuned model into the run folder" };
        var devices = new Option<string?>("--devices")
            { Description = "Train on several devices (--train runs): GPU ids 0,1,... (one worker process each, NCCL), " +
                            "cpu:N (N ranks as threads on the CPU) or cpu-processes:N (N CPU worker processes over TCP); --split " +
                            "says what they divide; see docs/distributed.md" };
        var split = new Option<string>("--split")
            { Description = "What the ranks of --devices (or of a launcher: torchrun, Slurm) divide: batch (data parallel: each " +
                            "scores its share of every batch) or layers (a pipeline for a model larger than one device: each loads " +
                            "and runs a contiguous share of the decoder layers)", DefaultValueFactory = _ => "batch" };
        var microBatches = new Option<int?>("--micro-batches")
            { Description = "With --split layers: cut every batch into M micro-batches so the ranks work at the same time " +
                            "(default: the number of ranks)" }.Positive();
        var images = new Option<string?>("--images")
            { Description = "Text-to-image QZO on an SD3 pipeline with an NF4 transformer: the image–caption cache that " +
                            "`qzo prepare` wrote (with --run; the options below marked SD3 apply)" };
        var sd3 = new Sd3FinetuneOptions();

        var command = new Command("finetune",
            "Fine-tune a checkpoint with QZO (quantization scales) or MeZO (all weights), then save it in its own format")
        {
            model, revision, train, validation, output, method, steps, lr, schedule, eps, clip, noClip, floor, batch, evalEvery, maxLength,
            seed,
            metrics, json, keepLast, trainUnquantized, control, directions, limitTrain, limitValidation, template, verbalizers, device,
            force, evalBatch, checkpointEvery, resume, noSave, images, devices, split, microBatches, compute, compareCompute,
        };
        foreach (var option in task.All) command.Options.Add(option);
        foreach (var option in sd3.All) command.Options.Add(option);
        command.SetAction(r => CommandRunner.Run(() =>
        {
            T? Given<T>(Option<T> option) where T : struct => r.GetResult(option) is { Implicit: false } ? r.GetValue(option) : null;

            using var outputs = CommonOptions.Outputs();
            if (r.GetValue(resume) is string resumeFolder)
            {
                if (r.GetValue(model) is not null) throw new QzoException(
                    "--resume takes every setting from the run's config.json; give no model or other settings");
                if (Sd3FinetuneJob.IsSd3Run(resumeFolder))
                {
                    string? sd3Json = outputs.File(r.GetValue(json), "--json", r.GetValue(force));
                    ImageFinetune.Resume(resumeFolder, r.GetValue(force), sd3Json, outputs);
                    return;
                }
                var saved = TaskFinetuneJob.ReadSettings(resumeFolder);
                outputs.Input(saved.Model, "the model").Input(saved.Data.Folder, "the data");
                string resumed = outputs.WorkFolder(resumeFolder, "--resume", force: false, resume: true);
                string? resumedJson = outputs.File(r.GetValue(json), "--json", r.GetValue(force));
                WriteJson(resumedJson, TaskFinetuneJob.Resume(resumed, saved, CommonOptions.CreateBackend, r.GetValue(force)));
                return;
            }
            string modelPath = HubArguments.Model(
                r.GetValue(model) ?? throw new QzoException("finetune needs the model folder (or --resume RUN)"), r.GetValue(revision));
            if (r.GetValue(images) is string imageCache)
            {
                if (r.GetValue(method) != "qzo") throw new QzoException("--images trains an NF4 transformer's scales: --method qzo only");
                Option[] notForImages = [train, validation, output, metrics, template, verbalizers, limitTrain, limitValidation,
                                         trainUnquantized, maxLength, keepLast, evalBatch, task.Task, task.Data, directions, devices,
                                         split, microBatches];
                if (notForImages.FirstOrDefault(o => r.GetResult(o) is { Implicit: false }) is { } ignored)
                    throw new QzoException($"{ignored.Name} does not apply to --images (an SD3 run writes into --run; see --help)");
                var flags = new Sd3OptimizerFlags
                {
                    Steps = Given(steps), LearningRate = Given(lr), Epsilon = Given(eps), Clip = Given(clip), NoClip = r.GetValue(noClip),
                    BatchSize = Given(batch), EvalEvery = Given(evalEvery), ScaleFloor = Given(floor), Seed = Given(seed),
                    Schedule = r.GetResult(schedule) is { Implicit: false } ? ParseSchedule(r.GetValue(schedule)) : null,
                    RandomSignControl = r.GetValue(control), CheckpointEvery = Given(checkpointEvery), NoSave = r.GetValue(noSave),
                    Device = r.GetValue(device), Compute = CommonOptions.Precision(r.GetValue(compute)!, "--compute"),
                    ComparePrecision = r.GetValue(compareCompute) is string comparedImages
                        ? CommonOptions.Precision(comparedImages, "--compare-compute") : null,
                };
                ImageFinetune.Start(r, modelPath, imageCache, r.GetValue(task.Run), sd3, flags, r.GetValue(force),
                                    outputs.File(r.GetValue(json), "--json", r.GetValue(force)), outputs);
                return;
            }
            var zoMethod = r.GetValue(method) switch
            {
                "qzo" => ZoMethod.Qzo, "mezo" => ZoMethod.Mezo,
                var other => throw new QzoException($"--method must be qzo or mezo, got '{other}'"),
            };
            var definition = r.GetValue(task.Task) is string taskName ? TaskCatalog.Resolve(taskName) : null;
            var defaults = definition?.Hyperparameters.GetValueOrDefault(zoMethod == ZoMethod.Mezo ? "mezo" : "qzo");
            var options = new ZoOptions
            {
                Method = zoMethod,
                Steps = Given(steps) ?? defaults?.Steps ?? r.GetValue(steps),
                LearningRate = Given(lr) ?? defaults?.LearningRate ?? r.GetValue(lr),
                Schedule = ParseSchedule(r.GetValue(schedule)),
                Epsilon = Given(eps) ?? defaults?.Epsilon ?? r.GetValue(eps),
                ClipThreshold = r.GetValue(noClip) ? null : Given(clip) ?? (defaults is not null ? defaults.Clip : r.GetValue(clip)),
                ScaleFloor = r.GetValue(floor),
                BatchSize = Given(batch) ?? defaults?.BatchSize ?? r.GetValue(batch),
                EvalEvery = Given(evalEvery) ?? defaults?.EvalEvery ?? r.GetValue(evalEvery),
                Seed = r.GetValue(seed),
                TrainUnquantized = r.GetValue(trainUnquantized),
                RandomSignControl = r.GetValue(control),
                Directions = r.GetValue(directions),
                Compute = CommonOptions.Precision(r.GetValue(compute)!, "--compute"),
                ComparePrecision = r.GetValue(compareCompute) is string compared
                    ? CommonOptions.Precision(compared, "--compare-compute") : null,
            };
            if (options.ComparePrecision is not null && definition is null)
                throw new QzoException("--compare-compute is for --task and --images runs (its figures go into the run's results.json)");
            options.Validate();

            var deviceList = r.GetValue(devices) is string listed ? DeviceList.Parse(listed) : null;
            var launch = Qzo.Distributed.DistributedLaunch.FromEnvironment();
            bool pipeline = r.GetValue(split) switch
            {
                "batch" => false, "layers" => true,
                var other => throw new QzoException($"--split must be batch or layers, got '{other}'"),
            };
            if (r.GetValue(microBatches) is not null && !pipeline) throw new QzoException(
                "--micro-batches applies to --split layers (a pipeline); data-parallel ranks score their share in one pass");
            if ((deviceList is not null || pipeline) && definition is not null) throw new QzoException(
                "--devices and --split run finetune --train (JSONL) for now; a --task run uses one device");
            if (deviceList is not null && launch is not null) throw new QzoException(
                $"--devices starts its own workers, but this process is already rank {launch.Rank} of {launch.WorldSize} " +
                $"({launch.Source}); give no --devices under a launcher");
            if (definition is not null)
            {
                if (r.GetValue(train) is not null || r.GetValue(validation) is not null || r.GetValue(output) is not null
                    || r.GetValue(metrics) is not null)
                    throw new QzoException(
                        "--task reads its splits from --data and writes into --run; drop --train, --validation, --out and --metrics");
                if (r.GetValue(template) is not null || r.GetValue(verbalizers) is not null || r.GetValue(limitTrain) is not null
                    || r.GetValue(limitValidation) is not null)
                    throw new QzoException(
                        "--task brings its own template and verbalizers and samples with --num-train/--num-dev/--num-eval; drop " +
                        "--template, --verbalizers and --limit-*");
                var settings = new TaskRunSettings
                {
                    Command = "finetune", Model = Path.GetFullPath(modelPath), Task = definition,
                    Data = TaskDataSettings.Resolve(definition,
                        task.DataFolder(r, r.GetValue(task.Data) ?? throw new QzoException("--task needs --data (the dataset folder)")),
                                                    r.GetValue(task.Sampling)!, r.GetValue(task.NumTrain), r.GetValue(task.NumDev),
                                                        r.GetValue(task.NumEval), r.GetValue(task.DataSeed)),
                    Optimizer = options, MaxLength = r.GetValue(maxLength), EvalBatchSize = r.GetValue(evalBatch) ?? options.BatchSize,
                    MaxNewTokens = r.GetValue(task.MaxNewTokens), CheckpointEvery = r.GetValue(checkpointEvery),
                        KeepBest = !r.GetValue(keepLast),
                    SaveModel = !r.GetValue(noSave), Device = r.GetValue(device)!,
                };
                outputs.Input(settings.Model, "the model").Input(settings.Data.Folder, "the data");
                string run = outputs.WorkFolder(r.GetValue(task.Run) ?? throw new QzoException("--task needs --run (the run folder)"),
                    "--run",
                                                r.GetValue(force), hint: $", or --resume {r.GetValue(task.Run)} to go on with it");
                string? taskJson = outputs.File(r.GetValue(json), "--json", r.GetValue(force));
                using var taskBackend = CommonOptions.CreateBackend(settings.Device);
                WriteJson(taskJson, TaskFinetuneJob.Start(settings, run, taskBackend));
                return;
            }

            string trainPath = r.GetValue(train) ?? throw new QzoException("finetune needs --train (JSONL) or --task and --data");
            if (deviceList is { CpuThreads: 0 })
            {
                DeviceWorkers.Run(deviceList, Environment.GetCommandLineArgs().Skip(1).ToList());
                return;
            }
            bool replace = r.GetValue(force), root = launch is null || launch.Rank == 0; // only rank 0 claims and writes the outputs
            outputs.Input(modelPath, "the model").Input(trainPath, "the training data")
                .Input(r.GetValue(validation), "the validation data");
            string? outFolder = root && r.GetValue(output) is string o ? outputs.Folder(o, "--out", replace) : null;
            string? metricsPath = !root ? null : outputs.File(FinetuneJob.MetricsPath(r.GetValue(output), r.GetValue(metrics)),
                                               r.GetValue(metrics) is null ? "metrics file" : "--metrics", replace);
            string? jsonPath = root ? outputs.File(r.GetValue(json), "--json", replace) : null;
            var request = new FinetuneJob.Request(modelPath, trainPath, r.GetValue(validation), outFolder, options, r.GetValue(maxLength),
                CommonOptions.Classification(r.GetValue(template), r.GetValue(verbalizers)), metricsPath, !r.GetValue(keepLast), replace,
                r.GetValue(limitTrain), r.GetValue(limitValidation));
            // a rank's request: a pipeline stage (--split layers) or a data-parallel share (--split batch)
            FinetuneJob.Request AsRank(Qzo.Distributed.ICommunicator communicator) => pipeline
                ? request.AsStage(new PipelineStage(communicator, r.GetValue(microBatches) ?? communicator.WorldSize))
                : request.AsRank(new DataParallel(communicator));
            if (deviceList is { CpuThreads: > 0 and var threads })
            {
                var ranks = Qzo.Distributed.InProcessRanks.Run(threads, communicator =>
                {
                    using var rankBackend = CommonOptions.CreateBackend("cpu");
                    return FinetuneJob.Run(AsRank(communicator), rankBackend);
                });
                WriteJson(jsonPath, ranks[0].ToJson());
                return;
            }
            if (launch is not null)
            {
                using var communicator = RankCommunicator.Create(launch, r.GetValue(device)!); // before the backend: it picks the GPU
                using var rankBackend = CommonOptions.CreateBackend(r.GetValue(device)!);
                WriteJson(jsonPath, FinetuneJob.Run(AsRank(communicator), rankBackend).ToJson());
                return;
            }
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!);
            var result = FinetuneJob.Run(request, backend);
            WriteJson(jsonPath, result.ToJson());
        }));
        return command;
    }

    static LearningRateSchedule ParseSchedule(string? name) => name switch
    {
        "constant" => LearningRateSchedule.Constant, "linear" => LearningRateSchedule.Linear,
        var other => throw new QzoException($"--schedule must be constant or linear, got '{other}'"),
    };

    static void WriteJson(string? path, System.Text.Json.Nodes.JsonObject json)
    {
        if (path is not null) Qzo.IO.AtomicFile.WriteAllText(path, json.ToJsonString(new() { WriteIndented = true }) + "\n");
    }
}
