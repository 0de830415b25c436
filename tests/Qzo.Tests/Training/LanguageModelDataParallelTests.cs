using Qzo.Compute.Cpu;
using Qzo.Distributed;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Tests.Models;
using Qzo.Training;

namespace Qzo.Tests.Training;

/// <summary>
/// A GPTQ model on the CPU backend trained by N ranks (threads, each with its own model) against one process: the same
/// global batches, and the CPU kernels give a row the same bits in a share as in the whole batch, so the same scales.
/// </summary>
public class LanguageModelDataParallelTests
{
    static readonly ZoOptions Options = new()
        { Steps = 4, BatchSize = 5, LearningRate = 1e-3f, Epsilon = 1e-3f, EvalEvery = 2, Seed = 21 };

    static List<Example> Examples() => Enumerable.Range(0, 11).Select(i =>
    {
        var ids = TinyModels.RandomIds(6 + i % 5, 320, 200 + i); // lengths differ, so shards pad differently from the whole batch
        return (Example)new SequenceExample(ids, Enumerable.Repeat(true, ids.Length).ToArray());
    }).ToList();

    static (TrainingSummary Summary, float[][] Scales) Train(string checkpointPath, DataParallel? parallel)
    {
        using var checkpoint = Checkpoint.Open(checkpointPath);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        var examples = Examples();
        using var metrics = new MetricsWriter(null);
        var summary = LanguageModelTraining.Loop(model, Options, examples, examples.Take(7).ToList(), padId: 0, metrics, keepBest: true,
            parallel: parallel).Run();
        return (summary, model.Trainable.Select(p => p.Download(backend)).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void NRanksTuneTheScalesOfOneProcess(int world)
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        var single = Train(model, null);
        var ranks = InProcessRanks.Run(world, c => Train(model, new DataParallel(c, CheckEvery: 2)));
        foreach (var rank in ranks)
        {
            // a row's fp32 forward is the same bits in a share as in the whole batch (the GEMM's edge tiles run as full ones,
            // src/Qzo/Compute/Cpu/SgemmJob.cs), and the double sums of fp32 token losses are exact in any order here
            Assert.Equal(single.Summary.History, rank.Summary.History);
            Assert.Equal(single.Scales, rank.Scales);
            Assert.Equal(single.Summary.BestStep, rank.Summary.BestStep);
        }
    }
}
