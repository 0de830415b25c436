using System.Runtime.InteropServices;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Quantization.Aqlm;

/// <summary>
/// One AQLM linear as aqlm.QuantizedLinear stores it: <c>P.codes</c> [out/O, in/I, M] (I8 or I16, signed),
/// <c>P.codebooks</c> F16 [M, 2^B, O, I], <c>P.scales</c> F16 [out/O, 1, 1, 1].
/// </summary>
/// <param name="Codes">[out/O, in/I, M], each in [0, 2^bits)</param>
public sealed record AqlmLinearTensors(AqlmScheme Scheme, int OutFeatures, int InFeatures, int[] Codes, Half[] Codebooks, Half[] Scales)
{
    public IEnumerable<TensorToWrite> ToTensors(string prefix)
    {
        int s = Scheme.OutGroupSize, ig = Scheme.InGroupSize;
        yield return new(prefix + ".codes", Scheme.CodeDType, [OutFeatures / s, InFeatures / ig, Scheme.Codebooks],
            AqlmCodes.Pack(Codes, Scheme.CodebookBits));
        yield return new(prefix + ".codebooks", DType.F16, [Scheme.Codebooks, Scheme.CodebookSize, s, ig], Bytes(Codebooks));
        yield return new(prefix + ".scales", DType.F16, [OutFeatures / s, 1, 1, 1], Bytes(Scales));
    }

    public float[] Dequantize() => AqlmReference.Dequantize(Codes, Codebooks.Select(h => (float)h).ToArray(),
                                                            Scales.Select(h => (float)h).ToArray(), Scheme, OutFeatures, InFeatures);

    static byte[] Bytes(Half[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
