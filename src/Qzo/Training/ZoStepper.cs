using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Training;

/// <summary>
/// One Q-SPSA step (docs/algorithm.md): two evaluations of the objective at ±ε·z with z regenerated from the step seed
/// (inside dequantization, for a quantized model), the directional derivative, DDC, and the update Δ ← max(Δ − η·d'·z, floor).
/// With <see cref="ZoOptions.Directions"/> K &gt; 1, K such probes along z's of seeds derived from the step seed, each
/// update scaled by 1/K (docs/distributed.md §Several directions); direction 0 is the one-direction step's.
/// </summary>
public sealed class ZoStepper(ITrainableSet trainable, ZoOptions options)
{
    /// <param name="loss">the objective on this step's batch, under a perturbation.</param>
    public ZoStepRecord Step(int step, Func<Perturbation, double> loss) => Step(step, probes =>
    {
        var losses = new double[probes.Count];
        for (int i = 0; i < probes.Count; i++) losses[i] = loss(probes[i]);
        return losses;
    });

    /// <param name="losses">
    /// the objective on this step's batch under each probe, in order: +ε and −ε along direction 0, then along direction 1, ...
    /// (all at once, so a data-parallel run can reduce them in one exchange).
    /// </param>
    public ZoStepRecord Step(int step, Func<IReadOnlyList<Perturbation>, double[]> losses)
    {
        ulong seed = SplitMix64.StepSeed(options.Seed, step);
        int k = options.Directions;
        var probes = new Perturbation[2 * k];
        for (int j = 0; j < k; j++)
        {
            ulong directionSeed = DirectionSeed(seed, j);
            probes[2 * j] = new Perturbation(directionSeed, options.Epsilon);
            probes[2 * j + 1] = new Perturbation(directionSeed, -options.Epsilon);
        }
        var values = losses(probes);
        if (values.Length != probes.Length) throw new ArgumentException($"{values.Length} losses for {probes.Length} probes");
        double lr = options.LearningRateAt(step); // the float actually used, widened exactly, so the log replays bit for bit
        var directions = new DirectionProbe[k];
        for (int j = 0; j < k; j++)
        {
            double lossPlus = values[2 * j], lossMinus = values[2 * j + 1];
            double d = (lossPlus - lossMinus) / (2.0 * options.Epsilon);
            double clipped = DirectionalDerivativeClipping.Clip(d, options.ClipThreshold);
            double applied = options.RandomSignControl ? Math.Abs(clipped) * RandomSign(step, j) : clipped;
            if (!double.IsFinite(applied)) throw NonFinite(step, lossPlus, lossMinus, d);
            directions[j] = new DirectionProbe(probes[2 * j].Seed, lossPlus, lossMinus, d, clipped, applied);
        }
        foreach (var direction in directions) Apply(direction.Seed, lr * direction.Applied / k);
        if (k == 1)
        {
            var only = directions[0];
            return new ZoStepRecord(step, seed, only.LossPlus, only.LossMinus, only.D, only.DClipped, only.Applied, lr);
        }
        return new ZoStepRecord(step, seed, directions.Average(p => p.LossPlus), directions.Average(p => p.LossMinus),
            directions.Average(p => p.D), directions.Average(p => p.DClipped), directions.Average(p => p.Applied), lr)
            { Directions = directions };
    }

    /// <summary>Direction 0's seed is the step seed (so one direction is the paper's step); the others are mixed from it.</summary>
    public static ulong DirectionSeed(ulong stepSeed, int direction) =>
        direction == 0 ? stepSeed : SplitMix64.Mix(stepSeed ^ (0xD1EC_7000_0000_0000UL + (ulong)direction));

    /// <summary>
    /// master ← max(master − step·z(seed), floor) for every trainable tensor; exposed so a run can be replayed from its log.
    /// </summary>
    public void Apply(ulong seed, double step) => trainable.Update(seed, (float)step, options.ScaleFloor);

    /// <summary>
    /// Step 0 runs before any update, so a non-finite loss there comes from the model or the data (the loader refuses
    /// non-finite tensors, so this should not happen), not from the learning rate; later, the updates diverged.
    /// </summary>
    static QzoException NonFinite(int step, double lossPlus, double lossMinus, double d)
    {
        string losses = $"L+ = {lossPlus:G6}, L− = {lossMinus:G6}";
        if (step == 0 && !(double.IsFinite(lossPlus) && double.IsFinite(lossMinus)))
            return new($"step 0: the loss is not finite before any update ({losses}); the checkpoint or the data gives a non-finite " +
                "loss, not the learning rate");
        return new($"step {step}: training diverged ({losses}, directional derivative {d:G6}); lower --lr or enable DDC (--clip)");
    }

    double RandomSign(int step, int direction)
    {
        ulong key = options.Seed ^ 0x5EED_C0DE_0000_0000UL ^ (ulong)step;
        if (direction > 0) key = SplitMix64.Mix(key ^ ((ulong)direction << 40));
        return (SplitMix64.Mix(key) & 1) == 0 ? 1.0 : -1.0;
    }
}
