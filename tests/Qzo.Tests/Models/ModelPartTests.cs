using Qzo.Models;
using Qzo.Tests.Distributed;

namespace Qzo.Tests.Models;

/// <summary>How a pipeline splits a decoder's layers over ranks, and which checkpoint tensors each rank's part loads.</summary>
public class ModelPartTests
{
    [Theory]
    [InlineData(10, 4, new[] { 3, 3, 2, 2 })]
    [InlineData(4, 4, new[] { 1, 1, 1, 1 })]
    [InlineData(7, 3, new[] { 3, 2, 2 })]
    [InlineData(80, 8, new[] { 10, 10, 10, 10, 10, 10, 10, 10 })]
    [InlineData(126, 8, new[] { 16, 16, 16, 16, 16, 16, 15, 15 })] // Llama-3.1-405B
    [InlineData(5, 1, new[] { 5 })]
    public void RanksGetContiguousBalancedSharesInOrder(int layers, int ranks, int[] counts)
    {
        var parts = Enumerable.Range(0, ranks).Select(r => ModelPart.OfRank(layers, r, ranks)).ToList();
        Assert.Equal(counts, parts.Select(p => p.LayerCount));
        Assert.Equal(0, parts[0].FirstLayer);
        for (int r = 1; r < ranks; r++) Assert.Equal(parts[r - 1].EndLayer, parts[r].FirstLayer);
        Assert.Equal(layers, parts[^1].EndLayer);
        Assert.Equal(Enumerable.Range(0, ranks).Select(r => r == 0), parts.Select(p => p.HoldsEmbedding));
        Assert.Equal(Enumerable.Range(0, ranks).Select(r => r == ranks - 1), parts.Select(p => p.HoldsHead));
        if (ranks == 1) Assert.Equal(ModelPart.Whole(layers), parts[0]);
    }

    [Theory]
    [InlineData(3, 4, "a pipeline of 4 ranks needs at least 4 decoder layers (one a rank); the model has 3")]
    [InlineData(1, 2, "a pipeline of 2 ranks needs at least 2 decoder layers (one a rank); the model has 1")]
    public void MoreRanksThanLayersAreRefused(int layers, int ranks, string expected) =>
        Assert.Equal(expected, Assert.Throws<QzoException>(() => ModelPart.OfRank(layers, 0, ranks)).Message);

    [Fact]
    public void ARankOutsideTheWorldIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelPart.OfRank(4, 2, 2));

    [Fact]
    public void ThePartsFootprintsAddUpToTheWholeModels()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(PipelineCheckpoints.Gptq(folder));
        var scope = TrainingScope.QuantizationScales;
        double whole = LoadFootprint.Bytes(checkpoint, Qzo.Numerics.DType.BF16, scope);
        foreach (int ranks in new[] { 1, 2, 3, 4 })
        {
            var parts = Enumerable.Range(0, ranks).Select(r => ModelPart.OfRank(4, r, ranks)).ToList();
            Assert.Equal(whole, parts.Sum(p => LoadFootprint.Bytes(checkpoint, Qzo.Numerics.DType.BF16, scope, p)));
            foreach (var name in checkpoint.Tensors.Names) // each tensor in exactly one part (this model's lm_head is not tied)
                Assert.Single(parts, p => LoadFootprint.Holds(p, name, tiedHead: false));
        }
        var first = ModelPart.OfRank(4, 0, 2);
        var last = ModelPart.OfRank(4, 1, 2);
        Assert.True(LoadFootprint.Holds(last, "model.embed_tokens.weight", tiedHead: true)); // a tied lm_head reads the table
        Assert.False(LoadFootprint.Holds(last, "model.decoder.embed_positions.weight", tiedHead: true));
        Assert.True(LoadFootprint.Holds(first, "model.decoder.project_in.weight", tiedHead: true));
        Assert.True(LoadFootprint.Holds(last, "model.decoder.project_out.weight", tiedHead: true));
        Assert.False(LoadFootprint.Holds(first, "model.norm.weight", tiedHead: true));
    }
}
