using System.CommandLine;
using Qzo.Compute;
using Qzo.Diffusion.Training;
using Qzo.Training;

namespace Qzo.Cli.Commands;

/// <summary>
/// The flags of text-to-image fine-tuning (`qzo finetune MODEL --images ...`), beside the optimizer flags `finetune`
/// already has: the objective, the preset, validation and sample grids. <see cref="Resolve"/> builds the run's settings:
/// the preset's optimizer, then each optimizer flag the user gave (<see cref="Sd3OptimizerFlags"/>), then these flags.
/// </summary>
sealed class Sd3FinetuneOptions
{
    public Option<string> Objective { get; } = new("--objective")
    {
        Description = "flow-matching: SD3's own rectified-flow loss as diffusers trains it (target ε − x0); qzo-reference: the " +
                      "official QZO code's DDPM noising (linear β, integer t, target ε, no latent shift)",
        DefaultValueFactory = _ => "flow-matching",
    };
    public Option<string> WeightingScheme { get; } = new("--weighting-scheme")
    {
        Description = "How σ is drawn (diffusers' names): logit_normal, mode, uniform; sigma_sqrt and cosmap draw σ uniformly " +
                      "and weight the loss by σ^-2 or 2/(π(1-2σ+2σ²))",
        DefaultValueFactory = _ => "logit_normal",
    };
    public Option<float> LogitMean { get; } = new Option<float>("--logit-mean")
        { Description = "logit_normal: mean of the normal before the sigmoid", DefaultValueFactory = _ => 0f }
        .Range(v => Math.Abs(v) <= 100, "between -100 and 100");
    public Option<float> LogitStd { get; } = new Option<float>("--logit-std")
        { Description = "logit_normal: its standard deviation", DefaultValueFactory = _ => 1f }.Positive();
    public Option<float> ModeScale { get; } = new Option<float>("--mode-scale")
        { Description = "mode: the scale of the mode-sampling density", DefaultValueFactory = _ => 1.29f }
        .Range(v => Math.Abs(v) <= 100, "between -100 and 100");
    public Option<bool> PreconditionOutputs { get; } = new("--precondition-outputs")
        { Description = "flow-matching: compare noisy − σ·pred with x0 (diffusers' dreambooth default), i.e. the loss weighted by σ²" };
    public Option<string> Preset { get; } = new("--preset")
    {
        Description = "paper: batch 16, lr 1e-6, ε 1e-3, 20,000 steps, DDC C=100, floor 0 (QZO paper, App. F); qzo-released: the " +
                      "released script's batch 8, lr 1e-5, 10,000 steps, no DDC, no clamp. Optimizer flags given override it",
        DefaultValueFactory = _ => Sd3FinetuneSettings.PaperPreset,
    };
    public Option<bool> KeepBest { get; } = new("--keep-best")
        { Description = "Keep the state of the lowest validation loss instead of the last (the paper selects nothing for SD)" };
    public Option<int> ForwardBatch { get; } = new Option<int>("--forward-batch")
        { Description = "Pairs per transformer call (bounds activation memory); 0: a whole batch at once", DefaultValueFactory = _ => 0 }
        .NonNegative();
    public Option<ulong> ValidationSeed { get; } = new("--validation-seed")
        { Description = "Seed of the fixed validation draws (each held-out pair's latent sample, ε and σ/t)",
          DefaultValueFactory = _ => 0UL };
    public Option<int> ValidationLimit { get; } = new Option<int>("--validation-limit")
        { Description = "Score only the first N held-out pairs at each evaluation (0: all)", DefaultValueFactory = _ => 0 }.NonNegative();
    public Option<int> SampleEvery { get; } = new Option<int>("--sample-every")
        { Description = "Render the sample grid every N steps (and before the first and after the last; 0: only then)",
          DefaultValueFactory = _ => 2_000 }.NonNegative();
    public Option<int> SampleSteps { get; } = new Option<int>("--sample-steps")
        { Description = "Euler steps of each sample", DefaultValueFactory = _ => 28 }.Positive();
    public Option<float> SampleGuidance { get; } = new Option<float>("--sample-guidance")
        { Description = "Classifier-free guidance of the samples (> 1 needs the empty prompt's cached embeddings)",
          DefaultValueFactory = _ => 1f }.Range(v => v >= 0 && v <= 100, "between 0 and 100");
    public Option<string[]> SamplePrompt { get; } = new("--sample-prompt")
    {
        Description = "A caption of the data to render (its cached embeddings are used; repeatable); default: the first distinct " +
                      "validation captions",
        AllowMultipleArgumentsPerToken = false,
    };
    public Option<int> SampleCount { get; } = new Option<int>("--sample-count")
        { Description = "Validation captions to render without --sample-prompt (0: no sample grids)", DefaultValueFactory = _ => 4 }
        .NonNegative();
    public Option<ulong[]> SampleSeeds { get; } = new("--sample-seeds")
        { Description = "Seeds of the samples, one grid column each", DefaultValueFactory = _ => [0UL, 1UL],
          AllowMultipleArgumentsPerToken = true };

    public IEnumerable<Option> All =>
    [
        Objective, WeightingScheme, LogitMean, LogitStd, ModeScale, PreconditionOutputs, Preset, KeepBest, ForwardBatch, ValidationSeed,
        ValidationLimit, SampleEvery, SampleSteps, SampleGuidance, SamplePrompt, SampleCount, SampleSeeds,
    ];

    public Sd3FinetuneSettings Resolve(ParseResult r, Sd3OptimizerFlags given)
    {
        string preset = r.GetValue(Preset)!;
        var o = Sd3FinetuneSettings.PresetOptimizer(preset);
        o = o with
        {
            Steps = given.Steps ?? o.Steps, LearningRate = given.LearningRate ?? o.LearningRate, Epsilon = given.Epsilon ?? o.Epsilon,
            ClipThreshold = given.NoClip ? null : given.Clip ?? o.ClipThreshold, BatchSize = given.BatchSize ?? o.BatchSize,
            EvalEvery = given.EvalEvery ?? o.EvalEvery, ScaleFloor = given.ScaleFloor ?? o.ScaleFloor, Seed = given.Seed ?? o.Seed,
            Schedule = given.Schedule ?? o.Schedule, RandomSignControl = given.RandomSignControl, Compute = given.Compute,
            ComparePrecision = given.ComparePrecision,
        };
        var settings = new Sd3FinetuneSettings
        {
            Preset = preset, Optimizer = o,
            Objective = new Sd3ObjectiveSettings
            {
                Kind = Sd3ObjectiveSettings.ParseKind(r.GetValue(Objective)!),
                Weighting = Sd3ObjectiveSettings.ParseWeighting(r.GetValue(WeightingScheme)!),
                LogitMean = r.GetValue(LogitMean), LogitStd = r.GetValue(LogitStd), ModeScale = r.GetValue(ModeScale),
                PreconditionOutputs = r.GetValue(PreconditionOutputs),
            },
            ForwardBatch = r.GetValue(ForwardBatch), CheckpointEvery = given.CheckpointEvery ?? 500, KeepBest = r.GetValue(KeepBest),
            SaveModel = !given.NoSave, ValidationSeed = r.GetValue(ValidationSeed), ValidationLimit = r.GetValue(ValidationLimit),
            SampleEvery = r.GetValue(SampleEvery), SampleSteps = r.GetValue(SampleSteps), SampleGuidance = r.GetValue(SampleGuidance),
            SamplePrompts = r.GetValue(SamplePrompt) ?? [], SampleCount = r.GetValue(SampleCount),
            SampleSeeds = r.GetValue(SampleSeeds) ?? [0UL, 1UL], Device = given.Device ?? "auto",
        };
        settings.Validate();
        return settings;
    }
}

/// <summary>
/// The optimizer flags of `finetune` that a text-to-image run takes, each null (or false) where the user did not give it,
/// so the preset's value stands.
/// </summary>
sealed record Sd3OptimizerFlags
{
    public int? Steps { get; init; }
    public float? LearningRate { get; init; }
    public float? Epsilon { get; init; }
    public float? Clip { get; init; }
    public bool NoClip { get; init; }
    public int? BatchSize { get; init; }
    public int? EvalEvery { get; init; }
    public float? ScaleFloor { get; init; }
    public ulong? Seed { get; init; }
    public LearningRateSchedule? Schedule { get; init; }
    public bool RandomSignControl { get; init; }
    public int? CheckpointEvery { get; init; }
    public bool NoSave { get; init; }
    public string? Device { get; init; }
    public LinearPrecision Compute { get; init; }
    public LinearPrecision? ComparePrecision { get; init; }
}
