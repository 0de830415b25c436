namespace Qzo.Training;

/// <summary>Settings of one zeroth-order run; defaults are the QZO paper's (docs/algorithm.md §8).</summary>
public sealed record ZoOptions
{
    /// <summary>QZO (the quantization scales) or MeZO (every weight).</summary>
    public ZoMethod Method { get; init; } = ZoMethod.Qzo;
    /// <summary>Training steps, each two forward passes.</summary>
    public int Steps { get; init; } = 20_000;
    /// <summary>η.</summary>
    public float LearningRate { get; init; } = 1e-7f;
    /// <summary>Constant η, or linear decay to 0.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;
    /// <summary>ε, absolute.</summary>
    public float Epsilon { get; init; } = 1e-3f;
    /// <summary>DDC threshold C; null turns clipping off.</summary>
    public float? ClipThreshold { get; init; } = 100f;
    /// <summary>
    /// Projection of the scales after each update: Δ = max(Δ − η·d'·z, floor). The paper: 0; the official LLM code: 1e-7;
    /// −∞ turns the clamp off (the official SD code has none).
    /// </summary>
    public float ScaleFloor { get; init; } = 0f;
    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Validate every this many steps (and after the last); 0: only at both ends.</summary>
    public int EvalEvery { get; init; } = 4_000;
    /// <summary>Run seed: step k's direction z comes from SplitMix64(Seed + k) (docs/algorithm.md).</summary>
    public ulong Seed { get; init; } = 0;
    /// <summary>Also train the unquantized tensors (embeddings, norms, lm_head, biases) MeZO-style.</summary>
    public bool TrainUnquantized { get; init; }
    /// <summary>
    /// Control experiment: apply |d'| along the same z but with a random sign. Shows whether a gain
    /// comes from the gradient estimate or merely from moving the scales.
    /// </summary>
    public bool RandomSignControl { get; init; }
    /// <summary>
    /// Directions probed per step (K), each with its own z from a seed derived from the step seed; the update averages
    /// their estimates. Each costs two forward passes; 1 is the paper's step.
    /// </summary>
    public int Directions { get; init; } = 1;
    /// <summary>The precision quantized linears multiply in (--compute; IBackend.Fp8); the run sets its backend to it.</summary>
    public Compute.LinearPrecision Compute { get; init; } = Qzo.Compute.LinearPrecision.Native;
    /// <summary>
    /// --compare-compute: each probe's loss evaluated in this precision too, on the same batch and z, to measure how well its
    /// estimates track the run's (<see cref="PrecisionComparison{TExample}"/>); null: no comparison.
    /// </summary>
    public Compute.LinearPrecision? ComparePrecision { get; init; }

    /// <summary>Throws a <see cref="QzoException"/> naming the first setting out of its range.</summary>
    public void Validate()
    {
        if (Steps < 0) throw new QzoException($"--steps must be ≥ 0, got {Steps}");
        if (!(LearningRate >= 0)) throw new QzoException($"--lr must be ≥ 0, got {LearningRate}");
        if (!(Epsilon > 0)) throw new QzoException($"--eps must be > 0, got {Epsilon}");
        if (ClipThreshold is float c && !(c >= 0)) throw new QzoException($"--clip must be ≥ 0, got {c}");
        if (BatchSize < 1) throw new QzoException($"--batch-size must be ≥ 1, got {BatchSize}");
        if (Directions < 1) throw new QzoException($"--directions must be ≥ 1, got {Directions}");
        if (EvalEvery < 0) throw new QzoException($"--eval-every must be ≥ 0, got {EvalEvery}");
    }

    /// <summary>η at a step, after the schedule.</summary>
    public float LearningRateAt(int step) => Schedule switch
    {
        LearningRateSchedule.Linear => LearningRate * (1f - (float)step / Math.Max(Steps, 1)),
        _ => LearningRate,
    };
}
