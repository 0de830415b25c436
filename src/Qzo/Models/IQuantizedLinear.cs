using Qzo.Compute;

namespace Qzo.Models;

/// <summary>
/// A linear whose weight is stored quantized (GPTQ, AQLM, bitsandbytes 4-bit): frozen codes on the device and one
/// continuous scale tensor, held as an fp32 master, that QZO trains. Adding a format means one implementation of
/// this (plus its kernels per backend, in Quantization/&lt;format&gt;/Kernels); models, trainer and exporter work through it.
/// </summary>
public interface IQuantizedLinear : ILinear
{
    /// <summary>The format, as `qzo inspect` and messages name it: "GPTQ", "AQLM", "bitsandbytes nf4".</summary>
    string Method { get; }

    /// <summary>
    /// The trainable scale: an fp32 master named after the checkpoint tensor it is exported to (its trainable index picks z).
    /// </summary>
    Parameter Scales { get; }

    Parameter? Bias { get; }

    /// <summary>How <see cref="Dequantize"/> lays the weight out.</summary>
    WeightLayout Layout { get; }

    /// <summary>
    /// The weight under <paramref name="p"/>, with the perturbation folded into the scales, in the backend's compute type.
    /// </summary>
    void Dequantize(IBackend backend, Perturbation p, DeviceTensor weight);

    /// <summary>
    /// The tuned scales re-encoded as the checkpoint stores them: tensor name → bytes of the original dtype and shape.
    /// Only tensors whose bytes the format needs to rewrite are returned.
    /// </summary>
    ScaleExport ExportScales(IBackend backend);
}

/// <summary>Where a dequantized weight's elements go: [in, out] suits MatMul, [out, in] MatMulTransposedB.</summary>
public enum WeightLayout { InputMajor, OutputMajor }

/// <summary>
/// Rewritten tensors, and how far the stored scales are from the tuned fp32 masters (0 when the storage holds them
/// exactly apart from the dtype's rounding, which is not counted: only re-encoding error, e.g. of a double-quantized absmax).
/// </summary>
public sealed record ScaleExport(IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Tensors, double MaxEncodingError = 0,
    double MaxRelativeEncodingError = 0);
