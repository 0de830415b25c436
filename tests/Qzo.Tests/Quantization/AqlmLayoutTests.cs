using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;

namespace Qzo.Tests.Quantization;

/// <summary>AQLM's stored codes and its dequantization (aqlm.utils), on values worked out by hand.</summary>
public class AqlmLayoutTests
{
    [Fact]
    public void SixteenBitCodesAreStoredAsSignedInt16()
    {
        var bytes = AqlmCodes.Pack([0, 1, 32767, 32768, 65535], 16);
        Assert.Equal([0x00, 0x00, 0x01, 0x00, 0xFF, 0x7F, 0x00, 0x80, 0xFF, 0xFF], bytes);
        Assert.Equal([0, 1, 32767, 32768, 65535], AqlmCodes.Unpack(bytes, DType.I16, 16));
    }

    [Fact]
    public void EightBitCodesAreStoredAsSignedInt8AndNarrowerOnesModuloTheirSize()
    {
        var bytes = AqlmCodes.Pack([0, 127, 128, 255], 8);
        Assert.Equal([0x00, 0x7F, 0x80, 0xFF], bytes);
        Assert.Equal([0, 127, 128, 255], AqlmCodes.Unpack(bytes, DType.I8, 8));
        var four = AqlmCodes.Pack([3, 12], 4); // 12 ≥ 2^3 is stored as 12 − 16 = −4
        Assert.Equal([0x03, 0xFC], four);
        Assert.Equal([3, 12], AqlmCodes.Unpack(four, DType.I8, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => AqlmCodes.Pack([256], 8));
    }

    [Fact]
    public void DequantizationSumsTheCodebooksPerGroupAndScalesEachOutputGroup()
    {
        // Two codebooks of two entries, each entry 2 outputs × 2 inputs; one output group (2 rows), two input groups.
        var scheme = new AqlmScheme(Codebooks: 2, CodebookBits: 1, InGroupSize: 2, OutGroupSize: 2);
        float[] codebooks = [1, 2, 3, 4, /**/ 5, 6, 7, 8, /**/ 0.5f, 0, 0, 0.5f, /**/ -1, -1, -1, -1];
        int[] codes = [1, 0, /**/ 0, 1]; // group 0: entry 1 of codebook 0 + entry 0 of codebook 1; group 1: 0 and 1
        var w = AqlmReference.Dequantize(codes, codebooks, [2f], scheme, outFeatures: 2, inFeatures: 4);
        Assert.Equal([11f, 12f, 0f, 2f, /**/ 14f, 17f, 4f, 6f], w);
    }

    [Theory]
    [InlineData("1x16", 1, 16, DType.I16)]
    [InlineData("2x8", 2, 8, DType.I8)]
    public void SchemesNameCodebooksAndBits(string name, int codebooks, int bits, DType dtype)
    {
        var scheme = AqlmScheme.Parse(name);
        Assert.Equal((codebooks, bits, 8, 1), (scheme.Codebooks, scheme.CodebookBits, scheme.InGroupSize, scheme.OutGroupSize));
        Assert.Equal(dtype, scheme.CodeDType);
        Assert.Equal(2.0, scheme.CodeBitsPerWeight);
        Assert.Contains("1x16", Assert.Throws<QzoException>(() => AqlmScheme.Parse("16")).Message);
    }
}
