using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Tests.Models;
using Qzo.Training;

namespace Qzo.Tests.Training;

public class TrainingRunTests
{
    static (TrainingSummary Summary, float[][] Scales) Train(string checkpointPath, ZoOptions options)
    {
        using var checkpoint = Checkpoint.Open(checkpointPath);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        var examples = Enumerable.Range(0, 12).Select(i =>
        {
            var ids = TinyModels.RandomIds(10, 320, 100 + i);
            return (Example)new SequenceExample(ids, Enumerable.Repeat(true, ids.Length).ToArray());
        }).ToList();
        using var metrics = new MetricsWriter(null);
        var summary = LanguageModelTraining.Loop(model, options, examples, examples.Take(4).ToList(), padId: 0, metrics, keepBest: false)
            .Run();
        var scales = model.Trainable.Select(p => p.Download(backend)).ToArray();
        return (summary, scales);
    }

    [Fact]
    public void TheSameSeedGivesTheSameRunAndAnotherSeedAnotherRun()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        var options = new ZoOptions { Steps = 4, BatchSize = 3, LearningRate = 1e-4f, EvalEvery = 2, Seed = 11 };
        var a = Train(model, options);
        var b = Train(model, options);
        Assert.Equal(a.Summary.History, b.Summary.History);
        Assert.Equal(a.Scales, b.Scales);
        var c = Train(model, options with { Seed = 12 });
        Assert.NotEqual(a.Summary.History.Select(h => h.Seed), c.Summary.History.Select(h => h.Seed));
    }

    [Fact]
    public void StepsFollowTheSpecifiedArithmetic()
    {
        using var folder = new TempFolder();
        var options = new ZoOptions
        {
            Steps = 3, BatchSize = 2, LearningRate = 1e-4f, Epsilon = 1e-3f, ClipThreshold = 0.25f, EvalEvery = 0
        };
        foreach (var r in Train(TinyModels.Gptq(folder), options).Summary.History)
        {
            Assert.Equal((r.LossPlus - r.LossMinus) / (2 * (double)1e-3f), r.D, 1e-12);
            Assert.Equal(Math.Clamp(r.D, -0.25, 0.25), r.DClipped);
            Assert.Equal(r.DClipped, r.Applied);
            Assert.Equal((double)1e-4f, r.Lr);
        }
    }

    [Fact]
    public void RandomSignControlKeepsMagnitudesAndFlipsSomeSigns()
    {
        using var folder = new TempFolder();
        var options = new ZoOptions { Steps = 12, BatchSize = 2, LearningRate = 1e-5f, EvalEvery = 0, RandomSignControl = true };
        var history = Train(TinyModels.Gptq(folder), options).Summary.History;
        Assert.All(history, r => Assert.Equal(Math.Abs(r.DClipped), Math.Abs(r.Applied)));
        Assert.Contains(history, r => Math.Sign(r.Applied) != Math.Sign(r.DClipped));
        Assert.Contains(history, r => Math.Sign(r.Applied) == Math.Sign(r.DClipped));
    }

    [Fact]
    public void KeepsTheBestEvaluationAndRestoresIt()
    {
        // A learning rate far too large makes every later evaluation worse; the initial scales must come back.
        using var folder = new TempFolder();
        string path = TinyModels.Gptq(folder);
        using var checkpoint = Checkpoint.Open(path);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        var initial = model.Trainable.Select(p => p.Download(backend)).ToArray();
        var examples = Enumerable.Range(0, 6)
            .Select(i => (Example)new SequenceExample(TinyModels.RandomIds(8, 320, i), Enumerable.Repeat(true, 8).ToArray())).ToList();
        using var metrics = new MetricsWriter(null);
        var options = new ZoOptions { Steps = 4, BatchSize = 2, LearningRate = 50f, ClipThreshold = null, EvalEvery = 2 };
        var summary = LanguageModelTraining.Loop(model, options, examples, examples, 0, metrics, keepBest: true).Run();
        Assert.True(summary.After!.Loss > summary.Before!.Loss);
        Assert.Equal(0, summary.BestStep);
        var restored = model.Trainable.Select(p => p.Download(backend)).ToArray();
        Assert.Equal(initial, restored);
    }
}

public class KeepLastTests
{
    [Fact]
    public void WithoutKeepBestTheKeptStateIsTheLast()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Gptq(folder));
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        var examples = Enumerable.Range(0, 6)
            .Select(i => (Example)new SequenceExample(TinyModels.RandomIds(8, 320, i), Enumerable.Repeat(true, 8).ToArray())).ToList();
        using var metrics = new MetricsWriter(null);
        var options = new ZoOptions { Steps = 3, BatchSize = 2, LearningRate = 1e-3f, EvalEvery = 3 };
        var summary = LanguageModelTraining.Loop(model, options, examples, examples, 0, metrics, keepBest: false).Run();
        Assert.Same(summary.After, summary.Best);
        Assert.Equal(3, summary.BestStep);
        Assert.NotEqual(summary.Before!.Loss, summary.After!.Loss);
    }
}
