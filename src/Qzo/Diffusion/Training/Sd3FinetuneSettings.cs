using Qzo.Training;

namespace Qzo.Diffusion.Training;

/// <summary>
/// Every setting of a text-to-image QZO run (docs/diffusion-training.md, "Training run"). The optimizer defaults are the
/// paper's for Stable Diffusion (batch 16, lr 1e-6, ε 1e-3, 20,000 steps, DDC C = 100, scales floored at 0);
/// <see cref="ReleasedPreset"/> gives the released script's (batch 8, lr 1e-5, 10,000 steps, no DDC, no clamp).
/// </summary>
public sealed record Sd3FinetuneSettings
{
    public const string PaperPreset = "paper", ReleasedPreset = "qzo-released";

    /// <summary>Which preset the optimizer started from (flags given on top of it are in <see cref="Optimizer"/>).</summary>
    public string Preset { get; init; } = PaperPreset;
    public ZoOptions Optimizer { get; init; } = PresetOptimizer(PaperPreset);
    public Sd3ObjectiveSettings Objective { get; init; } = new();
    /// <summary>Pairs per transformer call (a step's 2 × batch pairs run in calls of this many); 0: a whole batch per call.</summary>
    public int ForwardBatch { get; init; }
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Keep the state of the lowest validation loss instead of the last (the paper selects nothing for SD).</summary>
    public bool KeepBest { get; init; }
    public bool SaveModel { get; init; } = true;
    /// <summary>Seed of the fixed validation draws (each held-out pair's latent sample, ε and σ or t).</summary>
    public ulong ValidationSeed { get; init; }
    /// <summary>Score only the first N held-out pairs at each evaluation; 0: all of them.</summary>
    public int ValidationLimit { get; init; }
    /// <summary>Render the sample grid every N steps (and before the first and after the last); 0: only then.</summary>
    public int SampleEvery { get; init; } = 2_000;
    public int SampleSteps { get; init; } = 28;
    /// <summary>Classifier-free guidance of the samples; above 1 needs the negative prompt's cached embeddings.</summary>
    public float SampleGuidance { get; init; } = 1f;
    /// <summary>Captions of cached pairs to render (their cached embeddings are used); empty: the first distinct validation ones.</summary>
    public IReadOnlyList<string> SamplePrompts { get; init; } = [];
    /// <summary>How many validation captions to render when <see cref="SamplePrompts"/> is empty; 0 turns the grids off.</summary>
    public int SampleCount { get; init; } = 4;
    public IReadOnlyList<ulong> SampleSeeds { get; init; } = [0, 1];
    /// <summary>cpu, cuda or auto, as --device; recorded so a resumed run uses the same.</summary>
    public string Device { get; init; } = "auto";

    public static IReadOnlyList<string> Presets { get; } = [PaperPreset, ReleasedPreset];

    /// <summary>
    /// The optimizer of a preset. "No clamp" is a floor of −∞: the official code lets an absmax cross zero, which flips
    /// its block's sign.
    /// </summary>
    public static ZoOptions PresetOptimizer(string preset) => preset switch
    {
        PaperPreset => new ZoOptions
        {
            Steps = 20_000, LearningRate = 1e-6f, Epsilon = 1e-3f, ClipThreshold = 100f, BatchSize = 16, EvalEvery = 1_000, ScaleFloor = 0f,
        },
        ReleasedPreset => new ZoOptions
        {
            Steps = 10_000, LearningRate = 1e-5f, Epsilon = 1e-3f, ClipThreshold = null, BatchSize = 8, EvalEvery = 1_000,
            ScaleFloor = float.NegativeInfinity,
        },
        _ => throw new QzoException($"--preset must be {string.Join(" or ", Presets)}, got '{preset}'"),
    };

    public void Validate()
    {
        Optimizer.Validate();
        Objective.Validate();
        if (Optimizer.Method != ZoMethod.Qzo || Optimizer.TrainUnquantized)
            throw new QzoException("diffusion fine-tuning trains the NF4 absmax only (--method qzo, no --train-unquantized)");
        if (ForwardBatch < 0) throw new QzoException($"--forward-batch must be ≥ 0, got {ForwardBatch}");
        if (CheckpointEvery < 1) throw new QzoException($"--checkpoint-every must be ≥ 1, got {CheckpointEvery}");
        if (ValidationLimit < 0) throw new QzoException($"--validation-limit must be ≥ 0, got {ValidationLimit}");
        if (SampleEvery < 0) throw new QzoException($"--sample-every must be ≥ 0, got {SampleEvery}");
        if (SampleSteps < 1) throw new QzoException($"--sample-steps must be ≥ 1, got {SampleSteps}");
        if (!float.IsFinite(SampleGuidance)) throw new QzoException($"--sample-guidance must be a number, got {SampleGuidance}");
        if (SampleCount < 0) throw new QzoException($"--sample-count must be ≥ 0, got {SampleCount}");
        if (SampleSeeds.Count == 0) throw new QzoException("--sample-seeds needs at least one seed");
    }
}
