using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

public class GptqShapeValidationTests
{
    const string P = "model.layers.0.mlp.up_proj";

    static GptqTensorInfo T(string suffix, DType type, params long[] shape) => new($"{P}.{suffix}", type, shape);

    [Fact]
    public void Llama7BUpProjectionIsConsistent()
    {
        // in 4096, out 11008, 4 bits, group 128 → 32 groups.
        int groups = GptqPacking.ValidateShapes(4096, 11008, 4, 128,
            T("qweight", DType.I32, 512, 11008), T("qzeros", DType.I32, 32, 1376), T("scales", DType.F16, 32, 11008),
            T("g_idx", DType.I32, 4096));
        Assert.Equal(32, groups);
    }

    [Fact]
    public void ThreeBitShapesAndBf16ScalesAndAMissingGIdxAreAccepted()
    {
        // in 4096 → 384 qweight rows; out 11008 → 1032 qzeros words; group −1 → one group.
        int groups = GptqPacking.ValidateShapes(4096, 11008, 3, -1,
            T("qweight", DType.I32, 384, 11008), T("qzeros", DType.I32, 1, 1032), T("scales", DType.BF16, 1, 11008), null);
        Assert.Equal(1, groups);
    }

    [Theory]
    [InlineData("qweight")]
    [InlineData("qzeros")]
    [InlineData("scales")]
    [InlineData("g_idx")]
    public void AWrongShapeIsNamedByItsTensor(string wrong)
    {
        long Bump(string name, long size) => name == wrong ? size + 1 : size;
        var error = Assert.Throws<QzoException>(() => GptqPacking.ValidateShapes(256, 64, 4, 128,
            T("qweight", DType.I32, Bump("qweight", 32), 64), T("qzeros", DType.I32, 2, Bump("qzeros", 8)),
            T("scales", DType.F16, Bump("scales", 2), 64), T("g_idx", DType.I32, Bump("g_idx", 256))));
        Assert.Contains($"{P}.{wrong} has shape", error.Message);
        Assert.Contains("expected", error.Message);
    }

    [Fact]
    public void AWrongDTypeIsNamedByItsTensor()
    {
        var error = Assert.Throws<QzoException>(() => GptqPacking.ValidateShapes(256, 64, 4, 128,
            T("qweight", DType.I32, 32, 64), T("qzeros", DType.I32, 2, 8), T("scales", DType.F32, 2, 64), null));
        Assert.Contains($"{P}.scales has dtype F32", error.Message);
    }

    [Fact]
    public void ShortLastGroupCountsAsAGroup()
    {
        // in 96 with group 64 → 2 groups.
        Assert.Equal(2, GptqPacking.ValidateShapes(96, 32, 4, 64,
            T("qweight", DType.I32, 12, 32), T("qzeros", DType.I32, 2, 4), T("scales", DType.F16, 2, 32), T("g_idx", DType.I32, 96)));
        Assert.Throws<QzoException>(() => GptqPacking.ValidateShapes(96, 32, 4, 64,
            T("qweight", DType.I32, 12, 32), T("qzeros", DType.I32, 1, 4), T("scales", DType.F16, 1, 32), T("g_idx", DType.I32, 96)));
    }

    [Fact]
    public void GIdxEntriesMustNameExistingGroups()
    {
        GptqPacking.ValidateGIdx([0, 1, 1, 0], 2, $"{P}.g_idx");
        var error = Assert.Throws<QzoException>(() => GptqPacking.ValidateGIdx([0, 1, 2, 0], 2, $"{P}.g_idx"));
        Assert.Contains($"{P}.g_idx[2] = 2", error.Message);
        Assert.Throws<QzoException>(() => GptqPacking.ValidateGIdx([0, -1], 2, $"{P}.g_idx"));
    }
}
