using Qzo.Numerics;

namespace Qzo.Tests.Numerics;

/// <summary>
/// E4M3 against the OCP 8-bit floating point specification (v1.0, table of E4M3 values): the known codes, every code
/// decoding and re-encoding to itself, and encoding as the nearest value with ties to the even code, found by search.
/// </summary>
public class Fp8E4M3Tests
{
    [Theory]
    [InlineData(0f, 0x00)]
    [InlineData(1f, 0x38)]
    [InlineData(-1f, 0xB8)]
    [InlineData(0.5f, 0x30)]
    [InlineData(448f, 0x7E)]           // the largest finite value: 1.75 · 2⁸
    [InlineData(-448f, 0xFE)]
    [InlineData(1000f, 0x7E)]          // saturated, not NaN
    [InlineData(464f, 0x7E)]           // the midpoint to 480 (which would be NaN's code) saturates
    [InlineData(0.015625f, 0x08)]      // 2⁻⁶, the smallest normal
    [InlineData(0.001953125f, 0x01)]   // 2⁻⁹, the smallest subnormal
    [InlineData(0.0009765625f, 0x00)]  // 2⁻¹⁰, half of it: a tie, to the even code 0
    [InlineData(0.0029296875f, 0x02)]  // 1.5 · 2⁻⁹: a tie between codes 1 and 2, to 2
    [InlineData(1.0625f, 0x38)]        // the tie between 1 and 1.125 goes to 1 (even mantissa)
    [InlineData(1.1875f, 0x3A)]        // the tie between 1.125 and 1.25 goes to 1.25
    [InlineData(0.0146484375f, 0x08)]  // 7.5 · 2⁻⁹: the largest subnormal's tie rounds up into the smallest normal
    public void KnownCodes(float value, int code) => Assert.Equal(code, Fp8E4M3.Encode(value));

    [Fact]
    public void NaNStaysNaN()
    {
        Assert.Equal(0x7F, Fp8E4M3.Encode(float.NaN) & 0x7F); // the sign is kept: .NET's NaN has it set
        Assert.True(float.IsNaN(Fp8E4M3.Decode(0x7F)));
        Assert.True(float.IsNaN(Fp8E4M3.Decode(0xFF)));
        Assert.Equal(448f, Fp8E4M3.Decode(0x7E));
        Assert.Equal(MathF.ScaleB(1, -9), Fp8E4M3.Decode(0x01));
    }

    [Fact]
    public void EveryCodeRoundTrips()
    {
        for (int code = 0; code < 256; code++)
        {
            if ((code & 0x7F) == 0x7F) continue;
            Assert.Equal(code, Fp8E4M3.Encode(Fp8E4M3.Decode((byte)code)));
        }
    }

    [Fact]
    public void EncodesTheNearestValueTiesToEven()
    {
        var random = new Random(8);
        var codes = Enumerable.Range(0, 0x7F).Select(c => (Code: c, Value: Fp8E4M3.Decode((byte)c))).ToArray();
        for (int i = 0; i < 50_000; i++)
        {
            float a = (float)Math.Pow(2, -14 + 24 * random.NextDouble());
            if (i % 7 == 0) a = Fp8E4M3.Decode((byte)random.Next(0x7E)) + Fp8E4M3.Decode((byte)random.Next(0x7E)); // many ties
            int expected = a > Fp8E4M3.MaxFinite ? 0x7E : codes
                .OrderBy(c => Math.Abs((double)c.Value - a)).ThenBy(c => c.Code & 1).First().Code;
            Assert.True(expected == Fp8E4M3.Encode(a), $"{a:R}: expected {expected:X2}, got {Fp8E4M3.Encode(a):X2}");
            Assert.Equal(expected | 0x80, Fp8E4M3.Encode(-a));
        }
    }

    [Fact]
    public void ScalingMapsTheLargestMagnitudeTo448()
    {
        var (inverse, scale) = Fp8E4M3.Scaling(0.02f);
        Assert.Equal(0x7E, Fp8E4M3.Encode(0.02f * inverse));
        Assert.Equal(0.02f / 448f, scale);
        Assert.Equal((1f, 1f), Fp8E4M3.Scaling(0f));
    }
}
