using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Training;
using Qzo.Training;

namespace Qzo.Tests.Diffusion.Training;

/// <summary>
/// The objective on the tiny NF4 transformer: its loss against the transformer run by hand on plainly noised inputs,
/// forward batches that do not change it, the same draws in a step's + and − passes, and validation at fixed draws.
/// </summary>
public sealed class Sd3ObjectiveTests(TinyNf4Sd3 tiny) : IClassFixture<TinyNf4Sd3>
{
    [Theory]
    [InlineData(Sd3ObjectiveKind.FlowMatching)]
    [InlineData(Sd3ObjectiveKind.QzoReference)]
    public void TheLossIsTheMeanOfEachPairsMseOfTheTransformerOnItsNoisedLatents(Sd3ObjectiveKind kind)
    {
        using var backend = new CpuBackend();
        using var run = Sd3FineTuning.Open(tiny.Pipeline, new Sd3FinetuneSettings { Objective = new() { Kind = kind } }, backend);
        var batch = tiny.Train.Take(3).ToList();
        const ulong stepSeed = 17;
        ulong noiseSeed = Sd3NoiseDraws.ForStep(stepSeed);
        var noised = batch.Select((e, slot) => run.Objective.Noising.Noise(e, noiseSeed, slot)).ToList();
        var first = batch[0];
        var inputs = new Sd3TestRuns.Inputs(noised.SelectMany(x => x.Input).ToArray(), batch.SelectMany(e => e.PromptEmbeds).ToArray(),
                                            batch.SelectMany(e => e.PooledEmbeds).ToArray(), noised.Select(x => x.Timestep).ToArray(), 3,
                                            first.LatentHeight, first.LatentWidth, first.PromptTokens);
        var prediction = Sd3TestRuns.Run(run.Transformer, inputs)["sample"];
        int per = first.LatentMean.Length;
        double expected = Enumerable.Range(0, 3).Average(k => Enumerable.Range(0, per).Average(i =>
            Math.Pow(prediction[k * per + i] - (double)noised[k].Target[i], 2)));
        if (kind == Sd3ObjectiveKind.QzoReference)
            Assert.All(noised, x => Assert.Equal(Math.Floor(x.Timestep), x.Timestep));

        double loss = run.Objective.Loss(batch, new Perturbation(stepSeed, 0f));
        Assert.Equal(expected, loss, 1e-9 * expected);
        Assert.NotEqual(loss, run.Objective.Loss(batch, new Perturbation(stepSeed + 1, 0f)));
    }

    [Fact]
    public void ForwardBatchesDoNotChangeTheLoss()
    {
        using var backend = new CpuBackend();
        using var whole = Sd3FineTuning.Open(tiny.Pipeline, new Sd3FinetuneSettings(), backend);
        using var split = Sd3FineTuning.Open(tiny.Pipeline, new Sd3FinetuneSettings { ForwardBatch = 2 }, backend);
        var batch = tiny.Train.Take(5).ToList();
        var p = new Perturbation(3, 1e-3f);
        double a = whole.Objective.Loss(batch, p), b = split.Objective.Loss(batch, p);
        Assert.Equal(a, b, 1e-5 * a);
    }

    [Fact]
    public void TheTwoPassesOfAStepSeeTheSameLatentsNoiseAndTimesteps()
    {
        using var backend = new CpuBackend();
        var settings = new Sd3FinetuneSettings { Optimizer = new ZoOptions { Steps = 2, BatchSize = 4, LearningRate = 1e-3f, Seed = 8 } };
        using var run = Sd3FineTuning.Open(tiny.Pipeline, settings, backend);
        var seen = new List<IReadOnlyList<Sd3NoisedExample>>();
        run.Objective.Observe = noised => seen.Add(noised.ToList());
        var stepper = new ZoStepper(run.Trainable, settings.Optimizer);
        var batch = tiny.Train.Take(4).ToList();
        var records = Enumerable.Range(0, 2).Select(step => stepper.Step(step, p => run.Objective.Loss(batch, p))).ToList();

        Assert.Equal(4, seen.Count);
        for (int step = 0; step < 2; step++)
        {
            var (plus, minus) = (seen[2 * step], seen[2 * step + 1]);
            for (int k = 0; k < 4; k++)
            {
                Assert.Equal(plus[k].Input, minus[k].Input);
                Assert.Equal(plus[k].Target, minus[k].Target);
                Assert.Equal(plus[k].Timestep, minus[k].Timestep);
            }
            // The draws are those the step seed logged in metrics.jsonl gives, so the step can be replayed.
            var replay = run.Objective.Noising.Noise(batch[1], Sd3NoiseDraws.ForStep(records[step].Seed), 1);
            Assert.Equal(replay.Input, plus[1].Input);
            Assert.True(Math.Abs(records[step].LossPlus - records[step].LossMinus) < 0.05 * records[step].LossPlus,
                        $"L+ {records[step].LossPlus} and L− {records[step].LossMinus} differ by more than the perturbation explains");
        }
        Assert.NotEqual(seen[0][0].Input, seen[2][0].Input);
    }

    [Fact]
    public void ValidationUsesTheSameDrawsAtEveryEvaluation()
    {
        using var backend = new CpuBackend();
        using var run = Sd3FineTuning.Open(tiny.Pipeline, new Sd3FinetuneSettings { ValidationLimit = 6 }, backend);
        var first = run.Validate(tiny.Validation);
        Assert.Equal(6, first.Examples);
        Assert.Equal(first.Loss, run.Validate(tiny.Validation).Loss);
        using var other = Sd3FineTuning.Open(tiny.Pipeline, new Sd3FinetuneSettings { ValidationLimit = 6, ValidationSeed = 1 }, backend);
        Assert.NotEqual(first.Loss, other.Validate(tiny.Validation).Loss);
    }
}
