using System.Runtime.InteropServices;
using Qzo.Compute;
using Qzo.Models;
using Qzo.Quantization;
using Qzo.Quantization.Bnb.Kernels;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// A bitsandbytes 4-bit (NF4 or FP4) linear: the packed nibbles and the type's 16-value table stay frozen on the
/// device; the absmax of each block is the fp32 master QZO trains (decoded from the 8-bit nested form when the
/// checkpoint is double-quantized). Dequantizes to [out, in], the flattened layout bitsandbytes quantized.
/// </summary>
/// <param name="nested">the stored double-quantized absmax (null when absmax is stored as fp32): export re-encodes into it</param>
public sealed class Bnb4BitLinear(string name, DeviceTensor packed, DeviceTensor code, Parameter absmax, Parameter? bias,
                                  Bnb4BitKernelShape shape, FourBitType type, NestedAbsmax? nested)
    : QuantizedLinear(name, absmax, bias, shape.InFeatures, shape.OutFeatures)
{
    readonly float[]? _startingAbsmax = nested?.Decode();

    public Bnb4BitKernelShape Shape { get; } = shape;
    public FourBitType Type { get; } = type;
    public bool DoubleQuantized => nested is not null;
    public override string Method => $"bitsandbytes {Type.Name()}";
    public override WeightLayout Layout => WeightLayout.OutputMajor;
    protected override IEnumerable<DeviceTensor> Frozen => [packed, code];

    public override void Dequantize(IBackend backend, Perturbation p, DeviceTensor weight) =>
        Bnb4BitKernels.For(backend).Dequantize(packed, code, Scales.Values, Shape, p, Scales.TrainableIndex ?? 0, weight);

    protected override bool TryMultiplyFp8(ForwardContext context, Perturbation p, DeviceTensor x, int rows, DeviceTensor y,
                                           bool accumulate, DeviceTensor? bias) =>
        Bnb4BitKernels.For(context.Backend).TryLinearFp8(x, rows, packed, code, Scales.Values, Shape, p, Scales.TrainableIndex ?? 0,
                                                         bias, y, accumulate);

    /// <summary>
    /// fp32 absmax are written as they are. A double-quantized absmax is re-encoded into its 8-bit form with the
    /// original offset (<see cref="NestedAbsmax.Reencode"/>): blocks that did not move keep their bytes, moved ones take
    /// the nearest representable value, so the export differs from the tuned masters by up to half a step of the grid;
    /// that difference is reported.
    /// </summary>
    public override ScaleExport ExportScales(IBackend backend)
    {
        if (nested is null) return PlainScaleExport(backend);
        var tuned = Scales.Download(backend);
        var encoded = nested.Reencode(_startingAbsmax!, tuned);
        var stored = encoded.Decode();
        double maxError = 0, maxRelative = 0;
        for (int b = 0; b < tuned.Length; b++)
        {
            double error = Math.Abs((double)stored[b] - tuned[b]);
            maxError = Math.Max(maxError, error);
            if (tuned[b] != 0) maxRelative = Math.Max(maxRelative, error / Math.Abs(tuned[b]));
        }
        string prefix = Scales.Name[..^Bnb4BitLinearTensors.AbsmaxSuffix.Length];
        return new ScaleExport(new Dictionary<string, ReadOnlyMemory<byte>>
        {
            [Scales.Name] = encoded.Codes,
            [prefix + Bnb4BitLinearTensors.NestedAbsmaxSuffix] = MemoryMarshal.AsBytes(encoded.Absmax.AsSpan()).ToArray(),
        }, maxError, maxRelative);
    }
}
