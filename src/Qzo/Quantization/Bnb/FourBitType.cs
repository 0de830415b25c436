namespace Qzo.Quantization.Bnb;

/// <summary>bitsandbytes' 4-bit data types: NormalFloat4 and its 4-bit float (1 sign, 2 exponent, 1 mantissa bit).</summary>
public enum FourBitType { Nf4, Fp4 }

public static class FourBitTypes
{
    public static string Name(this FourBitType type) => type == FourBitType.Nf4 ? "nf4" : "fp4";

    public static bool TryParse(string name, out FourBitType type)
    {
        switch (name)
        {
            case "nf4": type = FourBitType.Nf4; return true;
            case "fp4": type = FourBitType.Fp4; return true;
            default: type = default; return false;
        }
    }
}
