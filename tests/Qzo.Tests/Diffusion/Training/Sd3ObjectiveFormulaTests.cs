using Qzo.Diffusion.Schedulers;
using Qzo.Diffusion.Training;

namespace Qzo.Tests.Diffusion.Training;

/// <summary>
/// The two objectives' noising against plain reference formulas written out here in double: the σ table and its index,
/// the logit-normal and mode draws, the latent sample, x_σ and the target (flow matching, with and without diffusers'
/// preconditioning), and DDPM's ᾱ, noising and integer timesteps (qzo-reference).
/// </summary>
public class Sd3ObjectiveFormulaTests
{
    const float Shift = 0.0609f, Scale = 1.5305f;

    static CachedImageCaption Pair(int seed)
    {
        var random = new Random(seed);
        float[] Values(int n, double offset, double spread) =>
            Enumerable.Range(0, n).Select(_ => (float)(offset + spread * (random.NextDouble() - 0.5))).ToArray();
        return new CachedImageCaption($"pair{seed}", "a caption", 4, 2, 2, Values(16, 0, 4), Values(16, 0.5, 0.6), 3, 8, Values(24, 0, 2),
                                      Values(6, 0, 2));
    }

    static float[] Table() => new FlowMatchEulerScheduler(new FlowMatchEulerConfig { Shift = 3.0 }).TrainingSigmas();

    static FlowMatchingNoising Flow(Sd3ObjectiveSettings? s = null) => new(s ?? new Sd3ObjectiveSettings(), Table(), Shift, Scale);

    /// <summary>σ of table entry idx as diffusers defines it: t = T − idx, σ = shift·(t/T) / (1 + (shift − 1)·(t/T)).</summary>
    static double PlainSigma(int idx) => 3.0 * ((1000.0 - idx) / 1000) / (1 + 2.0 * ((1000.0 - idx) / 1000));

    [Fact]
    public void SigmaIsTheShiftedTrainingTableEntryAtTheFloorOfUTimesT()
    {
        var flow = Flow();
        var pair = Pair(1);
        for (int slot = 0; slot < 200; slot++)
        {
            ulong seed = 0xC0FFEE + (ulong)slot;
            double logit = Sd3NoiseDraws.Normal(seed, slot);
            double u = 1 / (1 + Math.Exp(-logit));
            int idx = Math.Min((int)Math.Floor(u * 1000), 999);
            var noised = flow.Noise(pair, seed, slot);
            Assert.True(Math.Abs(flow.TableIndex(seed, slot) - idx) <= 1, $"slot {slot}: index {flow.TableIndex(seed, slot)} vs {idx}");
            int used = flow.TableIndex(seed, slot);
            Assert.Equal(PlainSigma(used), noised.Noise, 1e-6);
            Assert.Equal(noised.Noise * 1000.0, noised.Timestep, 1e-4);
            Assert.Equal(1f, noised.Weight);
        }
    }

    [Fact]
    public void TheLogitNormalDrawHasTheGivenMeanAndStdAndChangesWithTheSeedOnly()
    {
        var flow = Flow(new Sd3ObjectiveSettings { LogitMean = 0.5f, LogitStd = 0.8f });
        var logits = Enumerable.Range(0, 4000).Select(slot =>
        {
            double u = flow.DensitySample(42, slot);
            return Math.Log(u / (1 - u));
        }).ToList();
        double mean = logits.Average(), std = Math.Sqrt(logits.Sum(x => (x - mean) * (x - mean)) / (logits.Count - 1));
        Assert.InRange(mean, 0.45, 0.55);
        Assert.InRange(std, 0.76, 0.84);
        Assert.Equal(flow.DensitySample(42, 7), flow.DensitySample(42, 7));
        Assert.NotEqual(flow.DensitySample(42, 7), flow.DensitySample(43, 7));
    }

    [Fact]
    public void ModeAndUniformDrawsFollowDiffusersDensityFormulas()
    {
        var mode = Flow(new Sd3ObjectiveSettings { Weighting = Sd3WeightingScheme.Mode, ModeScale = 1.29f });
        var uniform = Flow(new Sd3ObjectiveSettings { Weighting = Sd3WeightingScheme.Uniform });
        for (int slot = 0; slot < 100; slot++)
        {
            double u = Sd3NoiseDraws.Uniform(9, slot);
            Assert.InRange(u, 0, 1 - 1e-9);
            Assert.Equal(u, uniform.DensitySample(9, slot));
            double expected = 1 - u - 1.29 * (Math.Pow(Math.Cos(Math.PI * u / 2), 2) - 1 + u);
            Assert.Equal(expected, mode.DensitySample(9, slot), 1e-6);
        }
        // The draws of 4000 slots are uniform: each tenth of [0, 1) holds about 400.
        var counts = new int[10];
        for (int slot = 0; slot < 4000; slot++) counts[(int)(Sd3NoiseDraws.Uniform(77, slot) * 10)]++;
        Assert.All(counts, c => Assert.InRange(c, 320, 480));
    }

    [Fact]
    public void FlowMatchingNoisesTheShiftedScaledLatentSampleAndTargetsEpsilonMinusX0()
    {
        var flow = Flow();
        var pair = Pair(2);
        const ulong seed = 1234;
        var noised = flow.Noise(pair, seed, 3);
        var n = Sd3NoiseDraws.LatentNoise(seed, 3, 16);
        var epsilon = Sd3NoiseDraws.Epsilon(seed, 3, 16);
        double sigma = noised.Noise;
        for (int i = 0; i < 16; i++)
        {
            double x0 = (pair.LatentMean[i] + (double)pair.LatentStd[i] * n[i] - Shift) * Scale;
            Assert.Equal((1 - sigma) * x0 + sigma * epsilon[i], noised.Input[i], 1e-5);
            Assert.Equal(epsilon[i] - x0, noised.Target[i], 1e-5);
        }
        Assert.Equal((1f, 0f), (noised.OutputScale, noised.InputWeight));
        Assert.NotEqual(noised.Input, flow.Noise(pair, seed, 4).Input);
    }

    [Fact]
    public void PreconditionedOutputsGiveSigmaSquaredTimesThePlainLoss()
    {
        var plain = Flow();
        var preconditioned = Flow(new Sd3ObjectiveSettings { PreconditionOutputs = true });
        var pair = Pair(3);
        var random = new Random(5);
        for (int slot = 0; slot < 5; slot++)
        {
            var a = plain.Noise(pair, 99, slot);
            var b = preconditioned.Noise(pair, 99, slot);
            Assert.Equal(a.Input, b.Input);
            var prediction = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();
            double Loss(Sd3NoisedExample x) => Enumerable.Range(0, 16).Average(i =>
                Math.Pow(x.OutputScale * (double)prediction[i] + x.InputWeight * x.Input[i] - x.Target[i], 2)) * x.Weight;
            double sigma = a.Noise;
            Assert.Equal(sigma * sigma * Loss(a), Loss(b), 1e-5 * Loss(b));
        }
    }

    [Fact]
    public void SigmaSqrtAndCosmapWeightTheLossAsDiffusersDoes()
    {
        var pair = Pair(4);
        var sqrt = Flow(new Sd3ObjectiveSettings { Weighting = Sd3WeightingScheme.SigmaSqrt }).Noise(pair, 3, 0);
        Assert.Equal(1 / (sqrt.Noise * (double)sqrt.Noise), sqrt.Weight, 1e-4 / (sqrt.Noise * (double)sqrt.Noise));
        var cosmap = Flow(new Sd3ObjectiveSettings { Weighting = Sd3WeightingScheme.Cosmap }).Noise(pair, 3, 0);
        double s = cosmap.Noise;
        Assert.Equal(2 / (Math.PI * (1 - 2 * s + 2 * s * s)), cosmap.Weight, 1e-6);
    }

    [Fact]
    public void QzoReferenceIsDdpmNoisingWithoutTheShiftAndAnEpsilonTarget()
    {
        var ddpm = new DdpmReferenceNoising(1000, Scale);
        double product = 1;
        for (int t = 0; t < 1000; t++)
        {
            product *= 1 - (1e-4 + t * (0.02 - 1e-4) / 999);
            Assert.Equal(product, ddpm.AlphasCumprod[t], product * 2e-5);
        }
        Assert.InRange(ddpm.AlphasCumprod[999], 4.0e-5, 4.1e-5); // DDPM's well-known ᾱ_T for the linear schedule

        var pair = Pair(5);
        const ulong seed = 555;
        var noised = ddpm.Noise(pair, seed, 2);
        int step = (int)noised.Timestep;
        Assert.Equal(step, noised.Timestep);
        var n = Sd3NoiseDraws.LatentNoise(seed, 2, 16);
        var epsilon = Sd3NoiseDraws.Epsilon(seed, 2, 16);
        double alphaBar = ddpm.AlphasCumprod[step];
        for (int i = 0; i < 16; i++)
        {
            double x0 = (pair.LatentMean[i] + (double)pair.LatentStd[i] * n[i]) * Scale;
            Assert.Equal(Math.Sqrt(alphaBar) * x0 + Math.Sqrt(1 - alphaBar) * epsilon[i], noised.Input[i], 1e-5);
            Assert.Equal(epsilon[i], noised.Target[i]);
        }
        var steps = Enumerable.Range(0, 5000).Select(slot => ddpm.Timestep(31, slot)).ToList();
        Assert.InRange(steps.Min(), 0, 20);
        Assert.InRange(steps.Max(), 980, 999);
        Assert.InRange(steps.Average(), 485, 515);
    }
}
