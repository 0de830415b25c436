using Qzo.Numerics;

namespace Qzo.Tests.Numerics;

public class BFloat16Tests
{
    [Theory]
    [InlineData(1.0f, (ushort)0x3F80)]
    [InlineData(-2.0f, (ushort)0xC000)]
    [InlineData(0.0f, (ushort)0x0000)]
    [InlineData(float.PositiveInfinity, (ushort)0x7F80)]
    public void ExactValuesConvertBothWays(float value, ushort bits)
    {
        Assert.Equal(bits, BFloat16.FromSingle(value));
        Assert.Equal(value, BFloat16.ToSingle(bits));
    }

    [Fact]
    public void RoundsToNearestWithTiesToEven()
    {
        // 1 + 2^-8 lies exactly between bf16 1.0 (0x3F80) and 1.0078125 (0x3F81): ties go to the even 0x3F80.
        Assert.Equal((ushort)0x3F80, BFloat16.FromSingle(1.0f + 1.0f / 256));
        // 1.0078125 + 2^-8 lies between 0x3F81 and 0x3F82: ties go to the even 0x3F82.
        Assert.Equal((ushort)0x3F82, BFloat16.FromSingle(1.0078125f + 1.0f / 256));
        // Just above the midpoint rounds up.
        Assert.Equal((ushort)0x3F81, BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(0x3F808001)));
    }

    [Fact]
    public void NaNStaysNaN()
    {
        Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(float.NaN))));
        Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(0x7F800001)))));
    }
}
