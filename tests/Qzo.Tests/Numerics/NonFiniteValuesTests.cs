using System.Runtime.InteropServices;
using Qzo.Numerics;

namespace Qzo.Tests.Numerics;

public class NonFiniteValuesTests
{
    // 1027 elements: whole vectors plus a tail, so both loops are exercised; positions hit the first vector, the middle and the tail.
    static readonly int[] Positions = [0, 500, 1026];

    static long Count<T>(T[] values, DType dtype) where T : unmanaged =>
        NonFiniteValues.Count(dtype, MemoryMarshal.AsBytes(values.AsSpan()));

    [Fact]
    public void CountsNaNAndInfinityInEveryFloatingPointDType()
    {
        var f32 = Enumerable.Range(0, 1027).Select(i => i * 0.5f - 100).ToArray();
        var f64 = f32.Select(v => (double)v).ToArray();
        var f16 = f32.Select(v => (Half)v).ToArray();
        var bf16 = f32.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();
        Assert.Equal(0, Count(f32, DType.F32) + Count(f64, DType.F64) + Count(f16, DType.F16) + Count(bf16, DType.BF16));

        f32[Positions[0]] = float.NaN; f32[Positions[1]] = float.PositiveInfinity; f32[Positions[2]] = float.NegativeInfinity;
        f64[Positions[0]] = double.NaN; f64[Positions[2]] = double.NegativeInfinity;
        f16[Positions[1]] = Half.NaN; f16[Positions[2]] = Half.PositiveInfinity;
        bf16[Positions[2]] = 0x7FC0; // NaN
        Assert.Equal(3, Count(f32, DType.F32));
        Assert.Equal(2, Count(f64, DType.F64));
        Assert.Equal(2, Count(f16, DType.F16));
        Assert.Equal(1, Count(bf16, DType.BF16));
    }

    [Fact]
    public void ExtremeFiniteValuesAreNotCounted()
    {
        float[] f32 = [float.MaxValue, float.MinValue, float.Epsilon, -0f, 1e-40f];
        Half[] f16 = [Half.MaxValue, Half.MinValue, Half.Epsilon, Half.NegativeZero];
        ushort[] bf16 = [0x7F7F, 0xFF7F, 0x0001, 0x8000]; // ±max, smallest subnormal, -0
        Assert.Equal(0, Count(f32, DType.F32) + Count(f16, DType.F16) + Count(bf16, DType.BF16));
    }
}
