using Qzo.Compute.Cuda.Kernels;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.Tests.Compute;

/// <summary>
/// The kernels' fp16 rounding and GPTQ grid (plain C# here; the same code runs in ILGPU kernels) against .NET's Half and GptqGrid.
/// </summary>
public class GptqGridMathTests
{
    [Fact]
    public void Fp16NarrowingIsHalfsRoundToNearestEven()
    {
        var random = new Random(7);
        var values = new List<float> { 0f, -0f, 65504f, 65519.99f, 65520f, 1e9f, float.PositiveInfinity, float.NegativeInfinity,
                                       5.96e-8f, 2.98e-8f, 2.99e-8f, 6.097e-5f, 6.1035156e-5f, 6.103e-5f, 1e-45f, 1.0009765625f,
                                       1.00048828125f, 1.00146484375f };
        for (int i = 0; i < 200_000; i++) values.Add(BitConverter.Int32BitsToSingle(random.Next() | (random.Next(2) << 31)));
        for (int i = 0; i < 100_000; i++) values.Add((float)((random.NextDouble() * 2 - 1) * Math.Pow(2, random.Next(-30, 20))));
        foreach (float v in values)
        {
            var expected = (Half)v;
            ushort actual = Fp16.FromFloat(v);
            if (Half.IsNaN(expected)) Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(actual)), $"{v}");
            else Assert.True(BitConverter.HalfToUInt16Bits(expected) == actual,
                $"{v:R}: (Half) gives 0x{BitConverter.HalfToUInt16Bits(expected):X4}, the kernel 0x{actual:X4}");
        }
    }

    [Fact]
    public void GridIsGptqGridsFindParamsWithTheStoredScale()
    {
        var random = new Random(3);
        for (int trial = 0; trial < 20_000; trial++)
        {
            int bits = new[] { 2, 3, 4, 8 }[trial % 4];
            bool sym = trial % 3 == 0;
            double scale = Math.Pow(10, random.Next(-9, 3));
            var values = Enumerable.Range(0, 1 + random.Next(40))
                .Select(_ => (float)((random.NextDouble() - (trial % 5 == 0 ? 0 : 0.4)) * scale)).ToArray();
            if (trial % 97 == 0) values = new float[values.Length];
            float xmin = Math.Min(0, values.Min()), xmax = Math.Max(0, values.Max());
            var (expectedScale, expectedZero) = GptqGrid.FindParams(values, bits, sym);
            Assert.True(GptqGridMath.Params(xmin, xmax, bits, sym, out float actual, out int zero));
            Assert.Equal(expectedZero, zero);
            Assert.Equal((float)GptqGrid.ToStoredScale(expectedScale), actual);
        }
        Assert.False(GptqGridMath.Params(-1e6f, 1e6f, 2, true, out _, out _));
    }

    [Fact]
    public void CodesRoundHalfToEvenAsMathRound()
    {
        var random = new Random(5);
        foreach (double x in new[] { 0.5, 1.5, 2.5, -0.5, -1.5, 7.4999999, 1e300, -1e300 }
                     .Concat(Enumerable.Range(0, 10_000).Select(_ => (random.NextDouble() - 0.5) * 40)))
            foreach (int zero in new[] { 0, 3, 8 })
                Assert.Equal((int)Math.Clamp(Math.Round(x / 0.5) + zero, 0, 15), GptqGridMath.Code(x, 0.5, zero, 15));
    }
}
