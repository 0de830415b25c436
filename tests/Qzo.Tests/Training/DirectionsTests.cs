using Qzo.Numerics;
using Qzo.Training;

namespace Qzo.Tests.Training;

public class DirectionsTests
{
    static readonly float[][] Target = [[1f, -2f, 0.5f, 3f], [0.75f, 1.5f]];
    static readonly IReadOnlyList<double> Batch = [-0.1, 0.05, 0.02];

    static (HostTrainableSet Set, QuadraticObjective Objective) Fresh()
    {
        var set = new HostTrainableSet([[0.1f, 0.2f, -0.3f, 0.4f], [0.7f, 0.8f]], [false, true]);
        return (set, new QuadraticObjective(set, Target));
    }

    static ZoOptions Options(int directions) => new()
    {
        LearningRate = 0.01f, Epsilon = 1e-3f, ClipThreshold = 2f, ScaleFloor = 0.65f, Seed = 3, Directions = directions,
    };

    [Fact]
    public void OneDirectionIsThePapersStepExactly()
    {
        var (set, objective) = Fresh();
        var (reference, referenceObjective) = Fresh();
        var stepper = new ZoStepper(set, Options(1));
        for (int step = 0; step < 12; step++)
        {
            var record = stepper.Step(step, p => objective.Loss(Batch, p));

            // the step as docs/algorithm.md writes it, by hand
            ulong seed = SplitMix64.StepSeed(3, step);
            double plus = referenceObjective.Loss(Batch, new(seed, 1e-3f)), minus = referenceObjective.Loss(Batch, new(seed, -1e-3f));
            double d = (plus - minus) / (2.0 * 1e-3f), clipped = Math.Clamp(d, -2.0, 2.0);
            reference.Update(seed, (float)((double)0.01f * clipped), 0.65f);

            Assert.Equal(new ZoStepRecord(step, seed, plus, minus, d, clipped, clipped, 0.01f), record);
            Assert.Null(record.Directions);
            Assert.Equal(reference.Values, set.Values);
        }
    }

    [Fact]
    public void SeveralDirectionsAverageTheirUpdatesAlongSeedsDerivedFromTheStepSeed()
    {
        var (set, objective) = Fresh();
        var (reference, referenceObjective) = Fresh();
        var record = new ZoStepper(set, Options(3)).Step(4, p => objective.Loss(Batch, p));

        ulong stepSeed = SplitMix64.StepSeed(3, 4);
        var seeds = Enumerable.Range(0, 3).Select(k => ZoStepper.DirectionSeed(stepSeed, k)).ToArray();
        Assert.Equal(stepSeed, seeds[0]);
        Assert.Equal(3, seeds.Distinct().Count());
        Assert.Equal(seeds, record.Directions!.Select(p => p.Seed));
        foreach (var seed in seeds)
        {
            double plus = referenceObjective.Loss(Batch, new(seed, 1e-3f)), minus = referenceObjective.Loss(Batch, new(seed, -1e-3f));
            double d = (plus - minus) / (2.0 * 1e-3f);
            reference.Update(seed, (float)((double)0.01f * Math.Clamp(d, -2.0, 2.0) / 3), 0.65f);
        }
        Assert.Equal(reference.Values, set.Values);
        Assert.Equal(record.Directions!.Average(p => p.LossPlus), record.LossPlus);
    }

    [Fact]
    public void ZeroDirectionsAreRefused() =>
        Assert.Equal("--directions must be ≥ 1, got 0", Assert.Throws<QzoException>(() => Options(0).Validate()).Message);
}
