using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

/// <summary>
/// The AQLM quantizer: exact where the codebook can hold every vector, better than RTN at the same 2 bits, never worse for refining.
/// </summary>
public class AqlmQuantizerTests
{
    static float[] Gaussian(int count, int seed, float std)
    {
        var w = new float[count];
        GaussianDirection.Fill((ulong)seed, 0, 0, w);
        for (int i = 0; i < count; i++) w[i] *= std;
        return w;
    }

    static double Error(float[] weight, AqlmLinearTensors q) => QuantizeReport.RelativeError(weight, q.Dequantize());

    [Fact]
    public void ACodebookAsLargeAsTheVectorsReconstructsUpToFp16()
    {
        // 16 rows × 32 inputs = 64 vectors of 8 values; a 1x8 codebook of 256 entries holds every one of them.
        var w = Gaussian(16 * 32, 1, 0.05f);
        var q = AqlmQuantizer.Quantize(w, 16, 32, new AqlmScheme(1, 8));
        Assert.True(Error(w, q) < 2e-3, $"error {Error(w, q)}");
        Assert.All(q.Scales, s => Assert.True(s > Half.Zero));
    }

    [Fact]
    public void TwoBitAqlmBeatsTwoBitRoundToNearestOnTheSameWeight()
    {
        const int outF = 128, inF = 256;
        var w = Gaussian(outF * inF, 2, 0.02f);
        var aqlm = AqlmQuantizer.Quantize(w, outF, inF, new AqlmScheme(2, 8));
        var rtn = RtnQuantizer.Quantize(w, outF, inF, GptqConfig.Create(2, 128, sym: true, GptqCheckpointFormat.Gptq));
        var rtnWeight = GptqReference.Dequantize(rtn.QWeight, rtn.QZeros, rtn.Scales.Select(s => (float)s).ToArray(), rtn.GIdx, inF, outF,
            2, GptqCheckpointFormat.Gptq);
        double aqlmError = Error(w, aqlm), rtnError = QuantizeReport.RelativeError(w, rtnWeight);
        Assert.True(aqlmError < rtnError, $"AQLM 2x8 {aqlmError:F4} vs RTN 2-bit g128 {rtnError:F4}");
    }

    [Fact]
    public void RefinementRoundsDoNotIncreaseTheError()
    {
        const int outF = 32, inF = 128;
        var w = Gaussian(outF * inF, 3, 0.02f);
        var scheme = new AqlmScheme(2, 6);
        double initial = Error(w, AqlmQuantizer.Quantize(w, outF, inF, scheme, new AqlmQuantizerOptions(Rounds: 0)));
        double refined = Error(w, AqlmQuantizer.Quantize(w, outF, inF, scheme, new AqlmQuantizerOptions(Rounds: 4)));
        Assert.True(refined <= initial + 1e-4, $"refined {refined:F5} vs initial {initial:F5}");
    }

    [Fact]
    public void OutputGroupsShareOneScaleAndOneCodePerGroup()
    {
        const int outF = 8, inF = 16;
        var w = Gaussian(outF * inF, 4, 0.1f);
        var scheme = new AqlmScheme(1, 4, InGroupSize: 4, OutGroupSize: 2);
        var q = AqlmQuantizer.Quantize(w, outF, inF, scheme);
        Assert.Equal(outF / 2, q.Scales.Length);
        Assert.Equal(outF / 2 * (inF / 4), q.Codes.Length);
        Assert.Equal(16 * 2 * 4, q.Codebooks.Length);
        var tensors = q.ToTensors("p").ToList();
        Assert.Equal([4L, 4, 1], tensors[0].Shape);
        Assert.Equal(DType.I8, tensors[0].DType);
        Assert.Equal([1L, 16, 2, 4], tensors[1].Shape);
        Assert.Equal([4L, 1, 1, 1], tensors[2].Shape);
        Assert.True(Error(w, q) < 1, $"error {Error(w, q)}");
    }

    [Fact]
    public void ShapesThatDoNotSplitIntoGroupsAreRefused()
    {
        var e = Assert.Throws<QzoException>(() => AqlmQuantizer.Quantize(new float[12], 3, 4, new AqlmScheme(1, 4, 8)));
        Assert.Contains("groups", e.Message);
    }
}
