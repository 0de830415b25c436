using Qzo.Compute;
using Qzo.IO;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;

namespace Qzo.Models.Architectures.Llama;

/// <summary>
/// What `qzo bench` will allocate for a <see cref="SyntheticLlama"/> of a shape and a batch, computed in double before
/// anything is made: the weights as <see cref="SyntheticFormat"/> lays them out, and the activation buffers a forward pass
/// allocates per token (a lower bound: attention scratch and the logits chunk are left out).
/// </summary>
public static class BenchFootprint
{
    /// <summary>Device bytes of the synthesized model's tensors.</summary>
    public static double WeightBytes(LlamaConfig c, SyntheticFormat format, DType computeType)
    {
        double h = c.HiddenSize, q = (double)c.Heads * c.HeadDim, kv = (double)c.KvHeads * c.HeadDim, m = c.IntermediateSize;
        double dense = (2 * c.VocabSize * h + (2.0 * c.Layers + 1) * h) * computeType.SizeInBytes();
        double perLayer = LinearBytes(format, h, q) + 2 * LinearBytes(format, h, kv) + LinearBytes(format, q, h)
                          + 2 * LinearBytes(format, h, m) + LinearBytes(format, m, h);
        return dense + c.Layers * perLayer;
    }

    /// <summary>Activation bytes per token of a forward pass: ids, mask and positions, and ActivationBuffers' per-row tensors.</summary>
    public static double ActivationBytesPerToken(LlamaConfig c, DType computeType)
    {
        double q = (double)c.Heads * c.HeadDim, kv = (double)c.KvHeads * c.HeadDim;
        return 3 * sizeof(int) + computeType.SizeInBytes() * (2.0 * c.HiddenSize + 2 * q + 2 * kv + 2.0 * c.IntermediateSize);
    }

    /// <summary>Refuses, in one line with both figures, a bench the device (or the host, for the token batch) cannot hold.</summary>
    public static void Check(IBackend backend, LlamaConfig c, SyntheticFormat format, int batch, int sequence)
    {
        double tokens = (double)batch * sequence;
        // The token batch is made on the host first: ids and a mask per token, before and after padding.
        ResourceBudget.RequireHostMemory("bench", $"a batch of {batch} × {sequence} tokens", tokens * 2 * (sizeof(int) + sizeof(bool)));
        double bytes = WeightBytes(c, format, backend.ComputeType) + tokens * ActivationBytesPerToken(c, backend.ComputeType);
        ResourceBudget.RequireDeviceMemory("bench", $"the model and a batch of {batch} × {sequence} tokens", backend, bytes);
    }

    static double LinearBytes(SyntheticFormat format, double inF, double outF) => format switch
    {
        SyntheticFormat.Gptq g => GptqBytes(g, inF, outF),
        SyntheticFormat.Aqlm a => AqlmBytes(a.Scheme, inF, outF),
        SyntheticFormat.Nf4 => Words(Math.Ceiling(outF * inF / 2)) + 16 * sizeof(float) + Math.Ceiling(outF * inF / 64) * sizeof(float),
        _ => throw new ArgumentException($"no size for {format.Description}"),
    };

    static double GptqBytes(SyntheticFormat.Gptq g, double inF, double outF)
    {
        double groupSize = g.GroupSize <= 0 ? inF : g.GroupSize, groups = Math.Ceiling(inF / groupSize);
        return Words(inF * g.Bits / 8 * outF) + groups * outF * g.Bits / 8 + inF * sizeof(int) + groups * outF * sizeof(float);
    }

    static double AqlmBytes(AqlmScheme s, double inF, double outF)
    {
        double outGroups = Math.Floor(outF / s.OutGroupSize), inGroups = Math.Floor(inF / s.InGroupSize);
        double codes = Words(outGroups * inGroups * s.Codebooks * (s.CodebookBits <= 8 ? 1 : 2));
        double codebooks = (double)s.Codebooks * s.CodebookSize * s.OutGroupSize * s.InGroupSize * 2; // fp16
        return codes + codebooks + outGroups * sizeof(float);
    }

    /// <summary>Bytes rounded up to whole 32-bit words, as random codes are allocated.</summary>
    static double Words(double bytes) => Math.Ceiling(bytes / 4) * 4;
}
