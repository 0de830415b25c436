using Qzo.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Quantization;

/// <summary>
/// bitsandbytes' 4-bit tables and packing, against values worked out by hand from functional.get_4bit_type and the default backend.
/// </summary>
public class FourBitCodeTests
{
    [Fact]
    public void TablesAreBitsandbytesValues()
    {
        Assert.Equal(16, FourBitCode.Nf4.Values.Count);
        Assert.Equal(-1f, FourBitCode.Nf4.Values[0]);
        Assert.Equal(0f, FourBitCode.Nf4.Values[7]);
        Assert.Equal(0.07958029955625534f, FourBitCode.Nf4.Values[8]);
        Assert.Equal(1f, FourBitCode.Nf4.Values[15]);
        // FP4 by bit pattern: 0b011 = 12 is the largest magnitude, so index 3 is 1 and index 11 is −1 after dividing by 12.
        Assert.Equal(1f, FourBitCode.Fp4.Values[3]);
        Assert.Equal(-1f, FourBitCode.Fp4.Values[11]);
        Assert.Equal(8f / 12f, FourBitCode.Fp4.Values[2]);
        Assert.Equal(0.0625f / 12f, FourBitCode.Fp4.Values[1]);
        Assert.Equal(0f, FourBitCode.Fp4.Values[8]);
    }

    [Fact]
    public void EncodingPicksTheNearestValueAndTiesGoLow()
    {
        for (int i = 0; i < 16; i++) Assert.Equal(i, FourBitCode.Nf4.Encode(FourBitCode.Nf4.Values[i]));
        float midpoint = (FourBitCode.Nf4.Values[11] + FourBitCode.Nf4.Values[12]) / 2f;
        Assert.Equal(11, FourBitCode.Nf4.Encode(midpoint));
        Assert.Equal(12, FourBitCode.Nf4.Encode(MathF.BitIncrement(midpoint)));
        Assert.Equal(13, FourBitCode.Fp4.Encode(-0.5f));
        Assert.Equal(0, FourBitCode.Fp4.Encode(0f));
    }

    [Fact]
    public void Nf4PacksTheFirstValueInTheHighNibble()
    {
        // absmax 0.5: 0.2 scales to 0.4, above the midpoint 0.3893 of indices 11 and 12 → 12; 0 → 7; −0.5 → 0; 0.5 → 15.
        var (packed, absmax) = Bnb4BitQuantizer.Quantize([0.2f, 0f, -0.5f, 0.5f], FourBitType.Nf4, 64);
        Assert.Equal([0.5f], absmax);
        Assert.Equal([0xC7, 0x0F], packed);
        var w = Bnb4BitReference.Dequantize(packed, absmax, FourBitCode.Nf4.Values, 64, 4);
        Assert.Equal(0.44070982933044434f * 0.5f, w[0]);
        Assert.Equal([0f, -0.5f, 0.5f], w[1..]);
    }

    [Fact]
    public void Fp4PacksByBitPatternAndPadsAnOddCountWithTheCodeOfZero()
    {
        // absmax 3: 3 → 1 (0b011), −1.5 → −0.5 (sign + 0b101 = 13), 0.75 → 0.25 (0b111); the padding 0 → 0b000.
        var (packed, absmax) = Bnb4BitQuantizer.Quantize([3f, -1.5f, 0.75f], FourBitType.Fp4, 64);
        Assert.Equal([3f], absmax);
        Assert.Equal([0x3D, 0x70], packed);
    }

    [Fact]
    public void BlocksHaveTheirOwnAbsmaxAndAZeroBlockStaysZero()
    {
        var weight = new float[64 + 64 + 6];
        for (int i = 0; i < 64; i++) weight[i] = (i - 32) / 16f;          // absmax 2
        for (int i = 128; i < weight.Length; i++) weight[i] = 0.01f * (i - 128); // a short last block, absmax 0.05
        var (packed, absmax) = Bnb4BitQuantizer.Quantize(weight, FourBitType.Nf4, 64);
        Assert.Equal([2f, 0f, weight[^1]], absmax);
        var w = Bnb4BitReference.Dequantize(packed, absmax, FourBitCode.Nf4.Values, 64, weight.Length);
        for (int i = 64; i < 128; i++) Assert.Equal(0f, w[i]);
        Assert.Equal(weight[^1], w[^1]); // the largest value of a block decodes exactly (code 1 · absmax)
        var table = FourBitCode.Nf4.Values;
        float largestGap = Enumerable.Range(0, 15).Max(i => table[i + 1] - table[i]);
        for (int i = 0; i < weight.Length; i++)
            Assert.True(Math.Abs(w[i] - weight[i]) <= largestGap / 2 * absmax[i / 64] + 1e-7, $"value {i}: {w[i]} for {weight[i]}");
    }
    [Theory]
    [InlineData(64, 2 * (1 << 20) + 1)]
    [InlineData(4096, 3 * (1 << 20) + 4096 * 3 + 7)]
    public void ALargeWeightEncodedInParallelChunksGivesTheBytesOfOneByOneEncoding(int blockSize, int count)
    {
        var random = new Random(count);
        var weight = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * (1 + random.Next(4))).ToArray();
        var (packed, absmax) = Bnb4BitQuantizer.Quantize(weight, FourBitType.Nf4, blockSize);
        Assert.Equal(BlockAbsmax.Of(weight, blockSize), absmax);
        var expected = new byte[(count + 1) / 2];
        for (int k = 0; k < count; k++)
        {
            byte code = FourBitCode.Nf4.Encode(BlockAbsmax.Scaled(weight[k], k, absmax, blockSize, count));
            expected[k / 2] |= (byte)(k % 2 == 0 ? code << 4 : code);
        }
        expected[^1] |= FourBitCode.Nf4.Encode(0f); // the odd count's padding
        Assert.Equal(expected, packed);
    }
}
