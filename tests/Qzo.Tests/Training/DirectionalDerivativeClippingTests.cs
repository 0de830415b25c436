using Qzo.Training;

namespace Qzo.Tests.Training;

public class DirectionalDerivativeClippingTests
{
    [Theory]
    [InlineData(250.0, 100f, 100.0)]
    [InlineData(-250.0, 100f, -100.0)]
    [InlineData(42.5, 100f, 42.5)]
    [InlineData(-100.0, 100f, -100.0)]
    [InlineData(3.0, 0f, 0.0)]
    public void SaturatesTheScalarToMinusCPlusC(double d, float c, double expected) =>
        Assert.Equal(expected, DirectionalDerivativeClipping.Clip(d, c));

    [Fact]
    public void NullThresholdTurnsClippingOff() => Assert.Equal(1e9, DirectionalDerivativeClipping.Clip(1e9, null));
}

public class LearningRateScheduleTests
{
    [Fact]
    public void ConstantAndLinearDecay()
    {
        var constant = new ZoOptions { LearningRate = 2e-3f, Steps = 100 };
        Assert.Equal(2e-3f, constant.LearningRateAt(0));
        Assert.Equal(2e-3f, constant.LearningRateAt(99));
        var linear = constant with { Schedule = LearningRateSchedule.Linear };
        Assert.Equal(2e-3f, linear.LearningRateAt(0));
        Assert.Equal(1e-3f, linear.LearningRateAt(50), 1e-9f);
        Assert.Equal(2e-5f, linear.LearningRateAt(99), 1e-9f);
    }

    [Fact]
    public void BadOptionsAreRefusedByName()
    {
        Assert.Contains("--eps", Assert.Throws<QzoException>(() => new ZoOptions { Epsilon = 0 }.Validate()).Message);
        Assert.Contains("--batch-size", Assert.Throws<QzoException>(() => new ZoOptions { BatchSize = 0 }.Validate()).Message);
        Assert.Contains("--clip", Assert.Throws<QzoException>(() => new ZoOptions { ClipThreshold = -1 }.Validate()).Message);
    }
}

public class BatchSamplerTests
{
    [Fact]
    public void EachEpochVisitsEveryExampleOnceAndRunsAreReproducible()
    {
        var sampler = new BatchSampler(exampleCount: 10, batchSize: 5, seed: 3);
        var epoch = sampler.IndicesForStep(0).Concat(sampler.IndicesForStep(1)).ToArray();
        Assert.Equal(Enumerable.Range(0, 10), epoch.Order());
        var again = new BatchSampler(10, 5, 3);
        Assert.Equal(sampler.IndicesForStep(7), again.IndicesForStep(7));
        Assert.NotEqual(epoch, sampler.IndicesForStep(2).Concat(sampler.IndicesForStep(3)).ToArray()); // reshuffled next epoch
        Assert.NotEqual(sampler.IndicesForStep(0), new BatchSampler(10, 5, 4).IndicesForStep(0));
    }

    [Fact]
    public void BatchesLargerThanTheDatasetWrapAcrossEpochs()
    {
        var indices = new BatchSampler(3, 7, 0).IndicesForStep(0);
        Assert.Equal(7, indices.Length);
        Assert.All(indices, i => Assert.InRange(i, 0, 2));
    }
}
