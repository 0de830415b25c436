using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

public class RtnQuantizerTests
{
    static GptqConfig Config(int bits, int groupSize, bool sym, GptqCheckpointFormat format, bool descAct = false) =>
        new(bits, groupSize, descAct, sym, format);

    static float[] Gaussian(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = 0.02f * MathF.Sqrt(-2 * MathF.Log(1 - random.NextSingle())) * MathF.Cos(2 * MathF.PI * random.NextSingle());
        return values;
    }

    public static TheoryData<int, bool, int> Cases()
    {
        var data = new TheoryData<int, bool, int>();
        foreach (int bits in new[] { 2, 3, 4, 8 })
            foreach (bool sym in new[] { true, false })
                foreach (int groupSize in new[] { 32, 128, -1, 40 })
                    data.Add(bits, sym, groupSize);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DequantizedWeightsAreWithinHalfAStepOfTheOriginal(int bits, bool sym, int groupSize)
    {
        const int outFeatures = 64, inFeatures = 256;
        var weight = Gaussian(outFeatures * inFeatures, bits * 100 + groupSize);
        // Asymmetric zero points can be 0, which only v2 stores; symmetric ones never are.
        var format = sym ? GptqCheckpointFormat.Gptq : GptqCheckpointFormat.GptqV2;

        // desc_act makes no difference to RTN.
        var result = RtnQuantizer.Quantize(weight, outFeatures, inFeatures, Config(bits, groupSize, sym, format, descAct: true));

        int g = groupSize == -1 ? inFeatures : groupSize;
        int groups = (inFeatures + g - 1) / g;
        Assert.Equal(groups, result.Groups);
        Assert.Equal(groups * outFeatures, result.Scales.Length);
        Assert.Equal(GptqPacking.DefaultGIdx(inFeatures, groupSize), result.GIdx);

        var scales = result.Scales.Select(s => (float)s).ToArray();
        var dequantized = GptqReference.Dequantize(result.QWeight, result.QZeros, scales, result.GIdx, inFeatures, outFeatures, bits,
            format);
        int maxq = (1 << bits) - 1;
        for (int o = 0; o < outFeatures; o++)
            for (int gi = 0; gi < groups; gi++)
            {
                var group = weight.AsSpan(o * inFeatures + gi * g, Math.Min(g, inFeatures - gi * g)).ToArray();
                float min = group.Min(), max = group.Max(); // mixed signs here, so find_params' range is [min, max]
                float expectedScale = sym ? 2 * MathF.Max(-min, max) / maxq : (max - min) / maxq;
                float step = scales[gi * outFeatures + o];
                Assert.Equal((Half)expectedScale, result.Scales[gi * outFeatures + o]);
                for (int i = gi * g; i < gi * g + group.Length; i++)
                {
                    float w = weight[o * inFeatures + i];
                    // Rounding costs at most half a step; the scale's rounding to fp16 (relative error ≤ 2^−11) can push
                    // an extreme value past the grid's end by |w|·2^−11 more.
                    float bound = 0.5f * step + MathF.Abs(w) * (1f / 1024);
                    Assert.True(MathF.Abs(dequantized[o * inFeatures + i] - w) <= bound,
                        $"[{o}, {i}]: {w} → {dequantized[o * inFeatures + i]}, step {step}");
                }
            }
    }

    [Fact]
    public void SymmetricResultsHaveTheConstantV1ZeroWords()
    {
        var result = RtnQuantizer.Quantize(Gaussian(64 * 256, 1), 64, 256, Config(4, 128, true, GptqCheckpointFormat.Gptq));
        Assert.All(result.QZeros, w => Assert.Equal(0x77777777, w));
    }

    // ---- the grid on tiny hand-worked groups (2 bits: maxq 3) ----

    [Fact]
    public void AsymmetricGridOnFourValues()
    {
        // xmin −1, xmax 2 → scale 3/3 = 1, zero round(1/1) = 1; codes round(w) + 1 = 0, round(0.5) + 1 = 1 (tie to even), 2, 3.
        var (scale, zero) = GptqGrid.FindParams([-1f, 0.5f, 1f, 2f], 2, sym: false);
        Assert.Equal(1f, scale);
        Assert.Equal(1, zero);
        Assert.Equal([0, 1, 2, 3], new[] { -1f, 0.5f, 1f, 2f }.Select(w => GptqGrid.Code(w, scale, zero, 3)));
    }

    [Fact]
    public void SymmetricGridRoundsTiesToEven()
    {
        // xmax = max(|−1.5|, 1.5) → range [−1.5, 1.5], scale 1, zero 2. round(−1.5) = −2, round(±0.5) = 0, round(1.5) = 2
        // → clamp.
        // (Rounding half away from zero would give 0, 1, 3, 3.)
        var (scale, zero) = GptqGrid.FindParams([-1.5f, -0.5f, 0.5f, 1.5f], 2, sym: true);
        Assert.Equal(1f, scale);
        Assert.Equal(2, zero);
        Assert.Equal([0, 2, 2, 3], new[] { -1.5f, -0.5f, 0.5f, 1.5f }.Select(w => GptqGrid.Code(w, scale, zero, 3)));
    }

    [Fact]
    public void AsymmetricZeroPointTieRoundsToEvenZero()
    {
        // xmin −0.5, xmax 2.5 → scale 1, zero round(0.5) = 0; codes 0, 0, 1, 2.
        var (scale, zero) = GptqGrid.FindParams([-0.5f, 0f, 1f, 2.5f], 2, sym: false);
        Assert.Equal((1f, 0), (scale, zero));
        Assert.Equal([0, 0, 1, 2], new[] { -0.5f, 0f, 1f, 2.5f }.Select(w => GptqGrid.Code(w, scale, zero, 3)));
    }

    [Fact]
    public void ScaleIsStoredAsTheNearestHalf()
    {
        // xmin −0.3, xmax 0.9 → scale 0.4 → fp16 0.39990234375; zero round(0.75) = 1; codes 0, 1, 2, 3.
        var (scale, zero) = GptqGrid.FindParams([-0.3f, 0.1f, 0.5f, 0.9f], 2, sym: false);
        var stored = GptqGrid.ToStoredScale(scale);
        Assert.Equal(0.39990234375f, (float)stored);
        Assert.Equal(1, zero);
        Assert.Equal([0, 1, 2, 3], new[] { -0.3f, 0.1f, 0.5f, 0.9f }.Select(w => GptqGrid.Code(w, (float)stored, zero, 3)));
    }

    [Fact]
    public void FindParamsQuirksAreKept()
    {
        // Symmetric, all non-negative: xmin stays 0, so scale = xmax / maxq and codes above xmax/2 clip (as in AutoGPTQ).
        var (scale, zero) = GptqGrid.FindParams([0f, 0.75f, 1.5f, 3f], 2, sym: true);
        Assert.Equal((1f, 2), (scale, zero));
        Assert.Equal([2, 3, 3, 3], new[] { 0f, 0.75f, 1.5f, 3f }.Select(w => GptqGrid.Code(w, scale, zero, 3)));

        // All zeros: the range becomes [−1, 1]: scale 2/3, zero round(1.5) = 2.
        Assert.Equal((2f / 3, 2), GptqGrid.FindParams([0f, 0f, 0f, 0f], 2, sym: false));
        Assert.Equal((2f / 3, 2), GptqGrid.FindParams([0f, 0f, 0f, 0f], 2, sym: true));
    }

    [Fact]
    public void StoredScaleNeverUnderflowsOrOverflows()
    {
        Assert.Equal(Half.Epsilon, GptqGrid.ToStoredScale(1e-9f));
        Assert.Throws<QzoException>(() => GptqGrid.ToStoredScale(1e6f));
        Assert.Throws<QzoException>(() => GptqGrid.FindParams([0f, float.NaN], 4, sym: true));
    }

    [Fact]
    public void WholeLayerHandWorkedTwoBitCase()
    {
        // [out 16, in 16], every row = (−1, 0.5, 1, 2) four times; group −1 → one group per row:
        // scale 1, zero 1, codes 0 1 2 3 repeating → each qweight column word has fields 00 01 10 11 … = 0xE4E4E4E4.
        float[] pattern = [-1f, 0.5f, 1f, 2f];
        var weight = Enumerable.Range(0, 16 * 16).Select(k => pattern[k % 4]).ToArray();

        var v2 = RtnQuantizer.Quantize(weight, 16, 16, Config(2, -1, false, GptqCheckpointFormat.GptqV2));
        Assert.Equal(Enumerable.Repeat(unchecked((int)0xE4E4E4E4), 16), v2.QWeight);
        Assert.Equal([0x55555555], v2.QZeros);        // zero 1 in all 16 outputs
        Assert.All(v2.Scales, s => Assert.Equal((Half)1f, s));
        Assert.Equal(new int[16], v2.GIdx);
        Assert.Equal(1, v2.Groups);

        var v1 = RtnQuantizer.Quantize(weight, 16, 16, Config(2, -1, false, GptqCheckpointFormat.Gptq));
        Assert.Equal(v2.QWeight, v1.QWeight);
        Assert.Equal([0], v1.QZeros);                 // v1 stores zero − 1 = 0
    }

    [Fact]
    public void AsymmetricZeroOfZeroCannotBeWrittenAsV1()
    {
        float[] pattern = [-0.5f, 0f, 1f, 2.5f]; // zero point 0 (see AsymmetricZeroPointTieRoundsToEvenZero)
        var weight = Enumerable.Range(0, 16 * 16).Select(k => pattern[k % 4]).ToArray();

        var error = Assert.Throws<QzoException>(
            () => RtnQuantizer.Quantize(weight, 16, 16, Config(2, -1, false, GptqCheckpointFormat.Gptq)));
        Assert.Contains("gptq_v2", error.Message);
        var v2 = RtnQuantizer.Quantize(weight, 16, 16, Config(2, -1, false, GptqCheckpointFormat.GptqV2));
        Assert.Equal([0], v2.QZeros);
    }

    [Fact]
    public void LayersLargerThanOnePackingChunkQuantizeEveryRow()
    {
        // in 1056 = 2 chunks of 512 + 32 rows: the chunk boundaries must not shift or drop rows.
        const int outFeatures = 32, inFeatures = 1056;
        var weight = Gaussian(outFeatures * inFeatures, 5);
        var result = RtnQuantizer.Quantize(weight, outFeatures, inFeatures, Config(3, 128, true, GptqCheckpointFormat.Gptq));

        var dequantized = GptqReference.Dequantize(result.QWeight, result.QZeros, result.Scales.Select(s => (float)s).ToArray(),
            result.GIdx, inFeatures, outFeatures, 3, GptqCheckpointFormat.Gptq);
        for (int k = 0; k < weight.Length; k++)
        {
            int o = k / inFeatures, i = k % inFeatures;
            float step = (float)result.Scales[(i / 128) * outFeatures + o];
            Assert.True(MathF.Abs(dequantized[k] - weight[k]) <= 0.5f * step + MathF.Abs(weight[k]) / 1024, $"[{o}, {i}]");
        }
    }

    [Fact]
    public void NonFiniteWeightsAreReportedWithTheirPosition()
    {
        var weight = new float[32 * 32];
        weight[5 * 32 + 7] = float.PositiveInfinity;
        var error = Assert.Throws<QzoException>(
            () => RtnQuantizer.Quantize(weight, 32, 32, Config(4, 32, true, GptqCheckpointFormat.Gptq)));
        Assert.Contains("output row 5", error.Message);
    }
}
