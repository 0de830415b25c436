namespace Qzo.Numerics;

/// <summary>
/// OCP FP8 E4M3 ("e4m3fn": 1 sign, 4 exponent bits of bias 7, 3 mantissa bits, no infinities, 0x7F/0xFF NaN, largest
/// finite 448, smallest normal 2⁻⁶, smallest subnormal 2⁻⁹), rounded to nearest even and saturated to ±448, as CUDA's
/// __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3) converts. streaming_kernels.cu's e4m3() encodes with the same
/// arithmetic, so the GPU's bytes equal these (docs/kernels.md §9).
/// </summary>
public static class Fp8E4M3
{
    public const float MaxFinite = 448f;
    public const byte NaN = 0x7F;

    public static byte Encode(float x)
    {
        byte sign = (byte)((BitConverter.SingleToUInt32Bits(x) >> 24) & 0x80);
        float a = MathF.Abs(x);
        if (float.IsNaN(a)) return (byte)(sign | NaN);
        if (a > MaxFinite) return (byte)(sign | 0x7E);
        int e = (int)((BitConverter.SingleToUInt32Bits(a) >> 23) & 0xFF) - 127;
        // Below 2⁻⁶ the codes are the multiples of 2⁻⁹; the rounding up to 8·2⁻⁹ lands on the smallest normal's code 0x08.
        if (e < -6) return (byte)(sign | (int)MathF.Round(a * 512f, MidpointRounding.ToEven));
        // a / 2^(e−3) lies in [8, 16): its even rounding is 8 + the mantissa, and 16 carries into the exponent by itself.
        int q = (int)MathF.Round(MathF.ScaleB(a, 3 - e), MidpointRounding.ToEven);
        return (byte)(sign | (((e + 7) << 3) + q - 8));
    }

    public static float Decode(byte code)
    {
        float sign = (code & 0x80) != 0 ? -1f : 1f;
        int exponent = (code >> 3) & 0xF, mantissa = code & 7;
        if (exponent == 0xF && mantissa == 7) return float.NaN;
        return sign * (exponent == 0 ? MathF.ScaleB(mantissa, -9) : MathF.ScaleB(8 + mantissa, exponent - 10));
    }

    /// <summary>
    /// A tensor's per-tensor scaling from its largest magnitude: its values are multiplied by <c>Inverse</c> (448 / amax) before
    /// encoding, and a product of two such tensors by both <c>Scale</c>s (amax / 448) after. A tensor of zeros keeps 1 and 1.
    /// </summary>
    public static (float Inverse, float Scale) Scaling(float amax) =>
        amax == 0f ? (1f, 1f) : (MaxFinite / amax, amax / MaxFinite);

    /// <summary>x rounded as it reaches the tensor cores: Decode(Encode(x · inverse)) (the scale is applied after the product).</summary>
    public static float Round(float x, float inverse) => Decode(Encode(x * inverse));
}
