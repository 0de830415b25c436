using Qzo.Numerics;

namespace Qzo.Quantization.Aqlm;

/// <summary>
/// The shape of an AQLM code: <paramref name="Codebooks"/> additive codebooks of 2^<paramref name="CodebookBits"/>
/// vectors, each vector covering <paramref name="OutGroupSize"/> outputs × <paramref name="InGroupSize"/> inputs.
/// "1x16" (1 codebook of 16 bits) and "2x8" with in-group 8 both spend 2 bits per weight on codes.
/// </summary>
public sealed record AqlmScheme(int Codebooks, int CodebookBits, int InGroupSize = 8, int OutGroupSize = 1)
{
    public int CodebookSize => 1 << CodebookBits;
    public string Name => $"{Codebooks}x{CodebookBits}";
    public double CodeBitsPerWeight => (double)Codebooks * CodebookBits / (InGroupSize * OutGroupSize);
    /// <summary>
    /// How AQLM stores a code (aqlm.utils.get_int_dtype): int8 up to 8 bits, else int16 (values ≥ 2^(bits−1) stored minus 2^bits).
    /// </summary>
    public DType CodeDType => CodebookBits <= 8 ? DType.I8 : DType.I16;

    /// <summary>"1x16", "2x8", ... with in-group size 8 and out-group size 1.</summary>
    public static AqlmScheme Parse(string name)
    {
        var parts = name.Split('x');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int m) || !int.TryParse(parts[1], out int b))
            throw new QzoException($"AQLM scheme '{name}' is not of the form <codebooks>x<bits>, e.g. 1x16 or 2x8");
        var scheme = new AqlmScheme(m, b);
        scheme.Validate($"AQLM scheme '{name}'");
        return scheme;
    }

    public void Validate(string what)
    {
        if (Codebooks is < 1 or > 8) throw new QzoException($"{what}: {Codebooks} codebooks; supported 1..8");
        if (CodebookBits is < 1 or > 16) throw new QzoException($"{what}: {CodebookBits} bits per codebook; supported 1..16");
        if (InGroupSize < 1 || OutGroupSize < 1) throw new QzoException(
            $"{what}: group sizes must be positive (in {InGroupSize}, out {OutGroupSize})");
    }
}
