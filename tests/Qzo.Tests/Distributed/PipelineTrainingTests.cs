using Qzo.Compute.Cpu;
using Qzo.Distributed;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Pipeline;
using Qzo.Tasks;
using Qzo.Tests.Models;
using Qzo.Training;

namespace Qzo.Tests.Distributed;

/// <summary>
/// Zeroth-order runs with the model split by layers over ranks (threads) against one device, on the CPU backend: every
/// rank sees the one-device run's losses bit for bit, so it applies the same updates to its own tensors; the saved
/// checkpoint is the one-device run's, byte for byte, and loads again whole or split.
/// </summary>
public class PipelineTrainingTests
{
    static ZoOptions Options(ZoMethod method) => new()
        { Method = method, Steps = 4, BatchSize = 5, LearningRate = 1e-3f, Epsilon = 1e-3f, EvalEvery = 2, Seed = 21 };

    static List<Example> Examples() => Enumerable.Range(0, 11).Select(i =>
    {
        var ids = TinyModels.RandomIds(6 + i % 5, 320, 200 + i);
        return (Example)new SequenceExample(ids, Enumerable.Repeat(true, ids.Length).ToArray());
    }).ToList();

    sealed record Run(TrainingSummary Summary, Dictionary<string, float[]> Trained);

    /// <param name="output">where to save (rank 0's decides for a pipeline).</param>
    static Run Train(string path, ZoMethod method, PipelineStage? stage, string? output)
    {
        var options = Options(method);
        using var checkpoint = Checkpoint.Open(path);
        using var backend = new CpuBackend();
        var scope = LanguageModelTraining.Scope(options);
        using var model = stage is null ? ModelLoader.Load(checkpoint, backend, scope)
            : ModelLoader.LoadStage(checkpoint, backend, scope, stage);
        var examples = Examples();
        using var metrics = new MetricsWriter(null);
        var summary = LanguageModelTraining.Loop(model, options, examples, examples.Take(7).ToList(), padId: 0, metrics).Run();
        if (stage is not null) PipelineExport.Export(checkpoint, model, output);
        else if (output is not null) CheckpointExporter.Export(checkpoint, model, output);
        return new Run(summary, model.Trainable.ToDictionary(p => p.Name, p => p.Download(backend)));
    }

    [Theory]
    [InlineData("qzo", 2, 1)]
    [InlineData("qzo", 4, 3)]
    [InlineData("mezo", 3, 2)]
    public void RanksTrainWhatOneDeviceTrainsAndSaveItsCheckpoint(string method, int ranks, int microBatches)
    {
        using var folder = new TempFolder();
        var zo = method == "qzo" ? ZoMethod.Qzo : ZoMethod.Mezo;
        // MeZO on OPT: its lm_head is tied to the embedding, which the first and the last rank both hold and train
        string path = zo == ZoMethod.Qzo ? PipelineCheckpoints.Gptq(folder) : PipelineCheckpoints.Dense(folder, ArchitectureRegistry.Opt);
        var single = Train(path, zo, null, folder["single"]);
        var split = InProcessRanks.Run(ranks,
            c => Train(path, zo, new PipelineStage(c, microBatches), c.Rank == 0 ? folder["split"] : null));

        Assert.All(split, rank => Assert.Equal(single.Summary.History, rank.Summary.History));
        Assert.All(split, rank => Assert.Equal(single.Summary.BestStep, rank.Summary.BestStep));
        Assert.Contains(single.Summary.History, h => h.Applied != 0); // the values moved
        var held = split.SelectMany(rank => rank.Trained).GroupBy(t => t.Key).ToList();
        Assert.Equal(single.Trained.Keys.Order(), held.Select(g => g.Key).Order());
        foreach (var tensor in held)
            Assert.All(tensor, copy => Assert.Equal(single.Trained[tensor.Key], copy.Value));

        var files = Directory.GetFiles(folder["single"]).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(files, Directory.GetFiles(folder["split"]).Select(Path.GetFileName).Order());
        foreach (var file in files) Assert.Equal(File.ReadAllBytes(Path.Combine(folder["single"], file!)),
                                                 File.ReadAllBytes(Path.Combine(folder["split"], file!)));
    }

    [Fact]
    public void TheSavedCheckpointLoadsWholeAndSplitAgain()
    {
        using var folder = new TempFolder();
        string path = PipelineCheckpoints.Gptq(folder);
        InProcessRanks.Run(2, c => Train(path, ZoMethod.Qzo, new PipelineStage(c, 2), c.Rank == 0 ? folder["tuned"] : null));
        var batch = PipelineCheckpoints.Batch(sequences: 4, seed: 9);
        using var checkpoint = Checkpoint.Open(folder["tuned"]);
        using var backend = new CpuBackend();
        using var whole = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        using var original = Checkpoint.Open(path);
        using var before = ModelLoader.Load(original, backend, TrainingScope.QuantizationScales);
        var expected = whole.Loss(batch, default).Sum;
        Assert.NotEqual(before.Loss(batch, default).Sum, expected); // the saved scales are the tuned ones
        var again = InProcessRanks.Run(3, c =>
        {
            using var rankCheckpoint = Checkpoint.Open(folder["tuned"]);
            using var rankBackend = new CpuBackend();
            using var part = ModelLoader.LoadStage(rankCheckpoint, rankBackend, TrainingScope.QuantizationScales, new PipelineStage(c, 2));
            return part.Loss(batch, default).Sum;
        });
        Assert.All(again, sums => Assert.Equal(expected, sums));
    }

    [Fact]
    public void NothingIsSavedWhenRankZeroHasNoOutput()
    {
        using var folder = new TempFolder();
        string path = PipelineCheckpoints.Dense(folder, ArchitectureRegistry.Opt);
        var results = InProcessRanks.Run(2, c =>
        {
            using var checkpoint = Checkpoint.Open(path);
            using var backend = new CpuBackend();
            using var model = ModelLoader.LoadStage(checkpoint, backend, TrainingScope.AllWeights, new PipelineStage(c, 1));
            return PipelineExport.Export(checkpoint, model, c.Rank == 0 ? null : folder["ignored"]);
        });
        Assert.All(results, Assert.Null);
        Assert.False(Directory.Exists(folder["ignored"]));
    }
}
