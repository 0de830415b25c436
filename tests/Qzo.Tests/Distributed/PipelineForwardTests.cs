using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Distributed;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Pipeline;

namespace Qzo.Tests.Distributed;

/// <summary>
/// A model split by layers over ranks (threads, each loading only its part) against the whole model on one device, on the
/// CPU backend: the same operations on the same rows in the same order, and hidden states handed over as the fp32 bits the
/// backend holds, so the losses and logits are the same bits.
/// </summary>
public class PipelineForwardTests
{
    static readonly Perturbation Probe = new(Seed: 77, Scale: 1e-2f);

    static (double[] Sums, int[] Counts, float[][] Logits) OneDevice(string path, TrainingScope scope, TokenBatch batch)
    {
        using var checkpoint = Checkpoint.Open(path);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, scope);
        var losses = model.Loss(batch, Probe);
        return (losses.Sum, losses.Count, model.Logits(batch, [0, 7, batch.Batch * batch.Seq - 1], Probe));
    }

    static (double[] Sums, int[] Counts, float[][] Logits, string[] Loaded)[] Pipeline(string path, TrainingScope scope, TokenBatch batch,
                                                                                       int ranks, int microBatches) =>
        InProcessRanks.Run(ranks, communicator =>
        {
            using var checkpoint = Checkpoint.Open(path);
            using var backend = new CpuBackend();
            using var model = ModelLoader.LoadStage(checkpoint, backend, scope, new PipelineStage(communicator, microBatches));
            var losses = model.Loss(batch, Probe);
            var logits = model.Logits(batch, [0, 7, batch.Batch * batch.Seq - 1], Probe);
            return (losses.Sum, losses.Count, logits, model.AllParameters.Select(p => p.Name).ToArray());
        });

    public static TheoryData<string, int, int> Cases => new()
    {
        { "llama-gptq", 2, 1 }, { "llama-gptq", 3, 2 }, { "llama-gptq", 4, 5 }, { "opt", 2, 3 }, { "opt", 3, 1 }, { "gemma3", 3, 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RanksGiveTheLossesAndLogitsOfOneDevice(string family, int ranks, int microBatches)
    {
        using var folder = new TempFolder();
        var (path, scope) = family switch
        {
            "llama-gptq" => (PipelineCheckpoints.Gptq(folder), TrainingScope.ScalesAndUnquantized),
            "opt" => (PipelineCheckpoints.Dense(folder, ArchitectureRegistry.Opt), TrainingScope.AllWeights),
            _ => (PipelineCheckpoints.Dense(folder, ArchitectureRegistry.Gemma3), TrainingScope.AllWeights),
        };
        var batch = PipelineCheckpoints.Batch(sequences: 5, seed: 3);
        var expected = OneDevice(path, scope, batch);
        var results = Pipeline(path, scope, batch, ranks, microBatches);
        foreach (var rank in results)
        {
            // every tensor trains here (the tied embedding too), so each rank must perturb it with the one-device run's z
            Assert.Equal(expected.Sums, rank.Sums);
            Assert.Equal(expected.Counts, rank.Counts);
            Assert.Equal(expected.Logits, rank.Logits);
        }
        using var checkpoint = Checkpoint.Open(path);
        int layers = checkpoint.Config.Layers;
        for (int r = 0; r < ranks; r++)
        {
            var part = ModelPart.OfRank(layers, r, ranks);
            var layerTensors = results[r].Loaded.Where(n => n.Contains(".layers.")).ToList();
            Assert.NotEmpty(layerTensors);
            Assert.All(layerTensors, n => Assert.True(LoadFootprint.Holds(part, n, checkpoint.Config.TieWordEmbeddings), n));
            Assert.Equal(r == ranks - 1, results[r].Loaded.Any(n => n.EndsWith("norm.weight") && !n.Contains(".layers.")
                                                                    || n.Contains("final_layer_norm") && !n.Contains(".layers.")));
        }
    }

    [Fact]
    public void TheNumberOfMicroBatchesDoesNotChangeTheLosses()
    {
        using var folder = new TempFolder();
        string path = PipelineCheckpoints.Gptq(folder);
        var batch = PipelineCheckpoints.Batch(sequences: 6, seed: 5);
        var one = Pipeline(path, TrainingScope.QuantizationScales, batch, ranks: 2, microBatches: 1)[0];
        foreach (int microBatches in new[] { 2, 3, 6, 10 })
        {
            var split = Pipeline(path, TrainingScope.QuantizationScales, batch, ranks: 2, microBatches)[0];
            Assert.Equal(one.Sums, split.Sums);
            Assert.Equal(one.Counts, split.Counts);
        }
    }

    [Fact]
    public void MoreRanksThanLayersAreRefusedOnEveryRank()
    {
        using var folder = new TempFolder();
        string path = PipelineCheckpoints.Dense(folder, ArchitectureRegistry.Opt);
        var error = Assert.Throws<QzoException>(() => Pipeline(path, TrainingScope.None, PipelineCheckpoints.Batch(2, 1), 4, 1));
        Assert.Equal("a pipeline of 4 ranks needs at least 4 decoder layers (one a rank); the model has 3", error.Message);
    }

    [Fact]
    public void GenerationIsRefusedOnAPipelineRank()
    {
        using var folder = new TempFolder();
        string path = PipelineCheckpoints.Dense(folder, ArchitectureRegistry.Opt);
        var error = Assert.Throws<QzoException>(() => InProcessRanks.Run(1, communicator =>
        {
            using var checkpoint = Checkpoint.Open(path);
            using var backend = new CpuBackend();
            using var model = ModelLoader.LoadStage(checkpoint, backend, TrainingScope.None, new PipelineStage(communicator, 1));
            using var cache = model.CreateKvCache(1, 8);
            model.ForwardCached(cache, [5, 6], [1, 1], new float[320]);
            return 0;
        }));
        Assert.Equal("generation runs the whole model on one device; this model holds only layers 0..2, the embedding, the final norm " +
                     "and lm_head (one rank of a pipeline)", error.Message);
    }
}
