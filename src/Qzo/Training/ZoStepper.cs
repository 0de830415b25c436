using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Training;

/// <summary>
/// One Q-SPSA step (docs/algorithm.md): two evaluations of the objective at ±ε·z with z regenerated from the step seed
/// (inside dequantization, for a quantized model), the directional derivative, DDC, and the update Δ ← max(Δ − η·d'·z, floor).
/// </summary>
public sealed class ZoStepper(ITrainableSet trainable, ZoOptions options)
{
    /// <param name="loss">the objective on this step's batch, under a perturbation.</param>
    public ZoStepRecord Step(int step, Func<Perturbation, double> loss)
    {
        ulong seed = SplitMix64.StepSeed(options.Seed, step);
        double lossPlus = loss(new Perturbation(seed, options.Epsilon));
        double lossMinus = loss(new Perturbation(seed, -options.Epsilon));
        double d = (lossPlus - lossMinus) / (2.0 * options.Epsilon);
        double clipped = DirectionalDerivativeClipping.Clip(d, options.ClipThreshold);
        double applied = options.RandomSignControl ? Math.Abs(clipped) * RandomSign(step) : clipped;
        double lr = options.LearningRateAt(step); // the float actually used, widened exactly, so the log replays bit for bit
        if (!double.IsFinite(applied)) throw NonFinite(step, lossPlus, lossMinus, d);
        Apply(seed, lr * applied);
        return new ZoStepRecord(step, seed, lossPlus, lossMinus, d, clipped, applied, lr);
    }

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

    double RandomSign(int step) => (SplitMix64.Mix(options.Seed ^ 0x5EED_C0DE_0000_0000UL ^ (ulong)step) & 1) == 0 ? 1.0 : -1.0;
}
