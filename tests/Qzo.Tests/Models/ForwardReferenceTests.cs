using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Numerics;

namespace Qzo.Tests.Models;

/// <summary>
/// <see cref="LlamaModel"/> (fp32, fused kernels, padded batches) against <see cref="ReferenceLlama"/>
/// (double, naive loops, one unpadded sequence at a time). Tolerance: 2e-4 absolute on logits of order 10,
/// i.e. fp32 accumulation error over a few hundred terms per dot product.
/// </summary>
public class ForwardReferenceTests
{
    internal const double LogitTolerance = 2e-4;

    [Theory]
    [InlineData(4, 32, false, true)]
    [InlineData(2, 64, true, true)]
    [InlineData(3, -1, false, true)]
    [InlineData(8, 32, false, false)]
    public void GptqModelMatchesReferenceOnPaddedBatch(int bits, int groupSize, bool tied, bool sym)
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Gptq(folder, bits, groupSize, tied, sym));
        var reference = new ReferenceLlama(checkpoint);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        CompareOnBatch(model, reference, checkpoint.Config.VocabSize);
    }

    [Fact]
    public void QzoPerturbationIsFoldedIntoDequantization()
    {
        // Under Perturbation(seed, ε) trainable scale tensor t (ordinal order of names) must act as scales + ε·z(seed, t, i).
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Gptq(folder, 4, 32));
        var scaleNames = checkpoint.Tensors.Names.Where(n => n.EndsWith(".scales")).OrderBy(n => n, StringComparer.Ordinal).ToList();
        const ulong seed = 12345; const float eps = 0.01f; // large ε so the perturbation is far above the tolerance
        var reference = new ReferenceLlama(checkpoint, (name, values) =>
        {
            int t = scaleNames.IndexOf(name);
            return t < 0 ? values : values.Select((v, i) => v + eps * GaussianDirection.Z(seed, t, i)).ToArray();
        });
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        Assert.Equal(scaleNames, model.Trainable.Select(p => p.Name));
        double shift = CompareOnBatch(model, reference, checkpoint.Config.VocabSize, new Perturbation(seed, eps));
        Assert.True(shift > 100 * LogitTolerance, $"the perturbation moved the logits by only {shift}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MezoPerturbationReachesEveryWeight(bool tied)
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Dense(folder, tied));
        var names = checkpoint.Tensors.Names.OrderBy(n => n, StringComparer.Ordinal).ToList();
        const ulong seed = 99; const float eps = -0.01f;
        var reference = new ReferenceLlama(checkpoint, (name, values) =>
            values.Select((v, i) => v + eps * GaussianDirection.Z(seed, names.IndexOf(name), i)).ToArray());
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.AllWeights);
        Assert.Equal(names, model.Trainable.Select(p => p.Name));
        CompareOnBatch(model, reference, checkpoint.Config.VocabSize, new Perturbation(seed, eps));
    }

    /// <returns>the largest change the perturbation made to any logit (0 without one).</returns>
    internal static double CompareOnBatch(CausalLanguageModel model, IReferenceModel reference, int vocab, Perturbation p = default,
                                          bool leftPadding = false)
    {
        var sequences = new[] { TinyModels.RandomIds(13, vocab, 1), TinyModels.RandomIds(7, vocab, 2), TinyModels.RandomIds(2, vocab, 3) };
        var batch = leftPadding
            ? TinyModels.PadLeft(sequences)
            : TokenBatch.Pad(sequences.Select(s => (s, Enumerable.Repeat(true, s.Length).ToArray())).ToList(), padId: 0);
        var losses = model.Loss(batch, p);
        double shift = 0;
        for (int b = 0; b < sequences.Length; b++)
        {
            int first = leftPadding ? batch.Seq - sequences[b].Length : 0;
            var positions = Enumerable.Range(0, sequences[b].Length).Select(t => b * batch.Seq + first + t).ToArray();
            var ours = model.Logits(batch, positions, p);
            var expected = reference.Logits(sequences[b]);
            var unperturbed = p.IsNone ? null : model.Logits(batch, positions);
            for (int t = 0; t < ours.Length; t++)
                for (int v = 0; v < vocab; v++)
                {
                    Assert.True(Math.Abs(ours[t][v] - expected[t][v]) <= LogitTolerance,
                        $"sequence {b}, position {t}, token {v}: {ours[t][v]} vs reference {expected[t][v]}");
                    if (unperturbed is not null) shift = Math.Max(shift, Math.Abs(ours[t][v] - unperturbed[t][v]));
                }
            Assert.Equal(sequences[b].Length - 1, losses.Count[b]);
            Assert.Equal(reference.Loss(sequences[b]) * (sequences[b].Length - 1), losses.Sum[b], 1e-4 * sequences[b].Length);
        }
        return shift;
    }
}

public class LossChunkingTests
{
    [Fact]
    public void LossAndLogitsDoNotDependOnTheLmHeadChunkSize()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Gptq(folder));
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        var sequences = Enumerable.Range(0, 4).Select(i => TinyModels.RandomIds(9 + i, 320, 40 + i)).ToList();
        var batch = TokenBatch.Pad(sequences.Select(s => (s, Enumerable.Repeat(true, s.Length).ToArray())).ToList(), padId: 0);
        var positions = Enumerable.Range(0, batch.Batch * batch.Seq).ToArray();

        var whole = model.Loss(batch, Perturbation.None);
        var wholeLogits = model.Logits(batch, positions);
        model.LogitChunkElements = 3 * 320; // three rows per chunk: many chunks, the last one partial
        var chunked = model.Loss(batch, Perturbation.None);
        var chunkedLogits = model.Logits(batch, positions);

        Assert.Equal(whole.Count, chunked.Count);
        Assert.Equal(whole.Sum, chunked.Sum);
        Assert.Equal(wholeLogits, chunkedLogits);
    }
}
