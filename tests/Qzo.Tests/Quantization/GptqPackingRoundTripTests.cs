using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

public class GptqPackingRoundTripTests
{
    public static TheoryData<int, GptqCheckpointFormat> BitsAndFormats()
    {
        var data = new TheoryData<int, GptqCheckpointFormat>();
        foreach (int bits in new[] { 2, 3, 4, 8 })
            foreach (var format in new[] { GptqCheckpointFormat.Gptq, GptqCheckpointFormat.GptqV2 })
                data.Add(bits, format);
        return data;
    }

    [Theory]
    [MemberData(nameof(BitsAndFormats))]
    public void PackThenUnpackGivesTheCodesAndZerosBack(int bits, GptqCheckpointFormat format)
    {
        var random = new Random(bits * 10 + (int)format);
        const int inFeatures = 96, outFeatures = 64, groups = 3;
        var codes = Enumerable.Range(0, inFeatures * outFeatures).Select(_ => random.Next(1 << bits)).ToArray();
        // v1 cannot hold a zero of 0 (tested separately); v2 gets the full range.
        int lowest = format == GptqCheckpointFormat.Gptq ? 1 : 0;
        var zeros = Enumerable.Range(0, groups * outFeatures).Select(_ => random.Next(lowest, 1 << bits)).ToArray();

        var qweight = GptqPacking.PackQWeight(codes, inFeatures, outFeatures, bits);
        var qzeros = GptqPacking.PackQZeros(zeros, groups, outFeatures, bits, format);

        Assert.Equal(inFeatures * bits / 32 * outFeatures, qweight.Length);
        Assert.Equal(groups * outFeatures * bits / 32, qzeros.Length);
        Assert.Equal(codes, GptqPacking.UnpackQWeight(qweight, inFeatures, outFeatures, bits));
        Assert.Equal(zeros, GptqPacking.UnpackQZeros(qzeros, groups, outFeatures, bits, format));
    }

    [Theory]
    [MemberData(nameof(BitsAndFormats))]
    public void UnpackThenPackGivesIdenticalWords(int bits, GptqCheckpointFormat format)
    {
        var random = new Random(100 + bits * 10 + (int)format);
        const int inFeatures = 64, outFeatures = 96, groups = 2;
        var qweight = Enumerable.Range(0, inFeatures * bits / 32 * outFeatures)
            .Select(_ => random.Next(int.MinValue, int.MaxValue)).ToArray();
        var qzeros = Enumerable.Range(0, groups * outFeatures * bits / 32).Select(_ => random.Next(int.MinValue, int.MaxValue)).ToArray();
        if (format == GptqCheckpointFormat.Gptq)
        {
            // A v1 field of all ones means zero 0, which v1 cannot write back: clear one bit of each such field.
            var raw = GptqPacking.UnpackQZeros(qzeros, groups, outFeatures, bits, GptqCheckpointFormat.GptqV2);
            int mask = (1 << bits) - 1;
            for (int i = 0; i < raw.Length; i++) if (raw[i] == mask) raw[i] = mask - 1;
            qzeros = GptqPacking.PackQZeros(raw, groups, outFeatures, bits, GptqCheckpointFormat.GptqV2);
        }

        var codes = GptqPacking.UnpackQWeight(qweight, inFeatures, outFeatures, bits);
        var zeros = GptqPacking.UnpackQZeros(qzeros, groups, outFeatures, bits, format);

        Assert.Equal(qweight, GptqPacking.PackQWeight(codes, inFeatures, outFeatures, bits));
        Assert.Equal(qzeros, GptqPacking.PackQZeros(zeros, groups, outFeatures, bits, format));
    }

    [Theory]
    [InlineData(4, 0x77777777u)]
    [InlineData(2, 0x55555555u)]
    [InlineData(8, 0x7F7F7F7Fu)]
    public void SymmetricV1QZerosAreConstantWords(int bits, uint word)
    {
        const int groups = 3, outFeatures = 64;
        var zeros = Enumerable.Repeat(1 << (bits - 1), groups * outFeatures).ToArray();

        var qzeros = GptqPacking.PackQZeros(zeros, groups, outFeatures, bits, GptqCheckpointFormat.Gptq);

        Assert.All(qzeros, w => Assert.Equal(unchecked((int)word), w));
    }

    [Fact]
    public void V1RefusesAZeroPointOfZeroAndPointsToV2()
    {
        var zeros = Enumerable.Repeat(8, 8).ToArray();
        zeros[5] = 0;

        var error = Assert.Throws<QzoException>(() => GptqPacking.PackQZeros(zeros, 1, 8, 4, GptqCheckpointFormat.Gptq));
        Assert.Contains("gptq_v2", error.Message);
        Assert.Contains("output 5", error.Message);

        var v2 = GptqPacking.PackQZeros(zeros, 1, 8, 4, GptqCheckpointFormat.GptqV2);
        Assert.Equal([unchecked((int)0x88088888)], v2);
    }

    [Theory]
    [InlineData(3, 48)]  // 3 bits: in must be a multiple of 32
    [InlineData(4, 12)]  // 4 bits: a multiple of 8
    [InlineData(2, 24)]  // 2 bits: a multiple of 16
    [InlineData(8, 6)]   // 8 bits: a multiple of 4
    public void QWeightRefusesAnInputDimensionThatDoesNotFillWholeWords(int bits, int inFeatures)
    {
        var error = Assert.Throws<QzoException>(() => GptqPacking.PackQWeight(new int[inFeatures * 32], inFeatures, 32, bits));
        Assert.Contains($"in_features {inFeatures}", error.Message);
        Assert.Throws<QzoException>(() => GptqPacking.UnpackQWeight(new int[64], inFeatures, 32, bits));
    }

    [Theory]
    [InlineData(3, 16)]
    [InlineData(4, 4)]
    public void QZerosRefuseAnOutputDimensionThatDoesNotFillWholeWords(int bits, int outFeatures)
    {
        var error = Assert.Throws<QzoException>(() =>
            GptqPacking.PackQZeros(Enumerable.Repeat(1, outFeatures).ToArray(), 1, outFeatures, bits, GptqCheckpointFormat.GptqV2));
        Assert.Contains($"out_features {outFeatures}", error.Message);
    }

    [Fact]
    public void SmallestWholeWordShapesPackForTwoFourAndEightBits()
    {
        Assert.Single(GptqPacking.PackQWeight(new int[8], 8, 1, 4));
        Assert.Single(GptqPacking.PackQWeight(new int[16], 16, 1, 2));
        Assert.Single(GptqPacking.PackQWeight(new int[4], 4, 1, 8));
    }

    [Theory]
    [InlineData(4, 16)]
    [InlineData(4, -1)]
    [InlineData(2, 5)]
    public void CodesOutsideTheBitWidthAreRefused(int bits, int code)
    {
        var codes = new int[32];
        codes[7] = code;
        Assert.Throws<ArgumentOutOfRangeException>(() => GptqPacking.PackQWeight(codes, 32, 1, bits));
    }

    [Fact]
    public void UnsupportedBitWidthsAreRefused()
    {
        Assert.Throws<QzoException>(() => GptqPacking.PackQWeight(new int[32], 32, 1, 5));
        Assert.Throws<QzoException>(() => GptqPacking.UnpackQZeros(new int[1], 1, 32, 1, GptqCheckpointFormat.Gptq));
    }

    [Theory]
    [InlineData(256, 128, 2)]
    [InlineData(256, -1, 1)]
    [InlineData(96, 64, 2)]   // in not a multiple of the group size: ceil, the last group is short
    [InlineData(96, 40, 3)]
    [InlineData(32, 128, 1)]  // group larger than the input
    public void GroupCountIsCeilingOfInputOverGroupSize(int inFeatures, int groupSize, int groups)
    {
        Assert.Equal(groups, GptqPacking.GroupCount(inFeatures, groupSize));
        var gIdx = GptqPacking.DefaultGIdx(inFeatures, groupSize);
        Assert.Equal(inFeatures, gIdx.Length);
        Assert.Equal(0, gIdx[0]);
        Assert.Equal(groups - 1, gIdx[^1]);
        int g = groupSize == -1 ? inFeatures : groupSize;
        for (int i = 0; i < inFeatures; i++) Assert.Equal(i / g, gIdx[i]);
    }
}
