using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

public class GptqReferenceTests
{
    static int W(uint word) => unchecked((int)word);

    [Fact]
    public void FormatsWorkedExampleDequantizes()
    {
        // docs/formats.md §4: qweight[0,0] = 0x76543210 (rows 0..7 of output 0 hold codes 0..7), qzeros 0x77777777
        // (v1 → zero 8), scale 0.01 → W[0, 0..7] = −0.08 … −0.01. Output o > 0 holds code o in every row.
        var qweight = new int[8];
        qweight[0] = W(0x76543210);
        for (int o = 1; o < 8; o++) qweight[o] = o * 0x11111111;
        float scale = (float)(Half)0.01f;
        var scales = Enumerable.Repeat(scale, 8).ToArray();

        var w = GptqReference.Dequantize(qweight, [W(0x77777777)], scales, new int[8], 8, 8, 4, GptqCheckpointFormat.Gptq);

        float[] expectedRow0 = [-0.08f, -0.07f, -0.06f, -0.05f, -0.04f, -0.03f, -0.02f, -0.01f];
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(expectedRow0[i], w[i], 1e-4f);          // the worked example, to fp16 precision
            Assert.Equal(scale * (i - 8), w[i]);                // exactly, with the fp16 scale
        }
        for (int o = 1; o < 8; o++)
            for (int i = 0; i < 8; i++) Assert.Equal(scale * (o - 8), w[o * 8 + i]);
    }

    [Fact]
    public void TheSameWordsReadAsV2UseTheStoredZero()
    {
        // 0x77777777 under v2 is zero 7, so with scale 1: W[0, i] = i − 7.
        var qweight = new int[8];
        qweight[0] = W(0x76543210);

        var w = GptqReference.Dequantize(qweight, [W(0x77777777)], Enumerable.Repeat(1f, 8).ToArray(), new int[8], 8, 8, 4,
            GptqCheckpointFormat.GptqV2);

        Assert.Equal([-7f, -6f, -5f, -4f, -3f, -2f, -1f, 0f], w[..8]);
    }

    [Fact]
    public void DescActGIdxPicksEachRowsGroupWhereverItIs()
    {
        // in 8, out 8, 4 bits, group 4 → 2 groups, rows assigned out of order (act-order): g_idx = 1 0 1 0 0 1 1 0.
        // Group 0: scale 1, zero 8 (v2 word 0x88888888); group 1: scale 0.5, zero 0 (word 0).
        // Output 0 holds codes 0..7, so W[0, i] = g_idx[i] == 0 ? 1·(i − 8) : 0.5·i.
        int[] gIdx = [1, 0, 1, 0, 0, 1, 1, 0];
        var qweight = new int[8];
        qweight[0] = W(0x76543210);
        var scales = new float[2 * 8];
        Array.Fill(scales, 1f, 0, 8);
        Array.Fill(scales, 0.5f, 8, 8);

        var w = GptqReference.Dequantize(qweight, [W(0x88888888), 0], scales, gIdx, 8, 8, 4, GptqCheckpointFormat.GptqV2);

        Assert.Equal([0f, -7f, 1f, -5f, -4f, 2.5f, 3f, -1f], w[..8]);
        // Outputs 1..7 hold code 0: −8 in group 0, 0 in group 1.
        for (int i = 0; i < 8; i++) Assert.Equal(gIdx[i] == 0 ? -8f : 0f, w[8 + i]);
    }

    [Fact]
    public void ShuffledGIdxMatchesTheElementwiseDefinition()
    {
        var random = new Random(7);
        const int inFeatures = 64, outFeatures = 32, groupSize = 16, groups = 4, bits = 3;
        var codes = Enumerable.Range(0, inFeatures * outFeatures).Select(_ => random.Next(8)).ToArray();
        var zeros = Enumerable.Range(0, groups * outFeatures).Select(_ => random.Next(1, 8)).ToArray();
        var scales = Enumerable.Range(0, groups * outFeatures).Select(_ => (float)(Half)(random.NextSingle() * 0.1f)).ToArray();
        var rank = Enumerable.Range(0, inFeatures).OrderBy(_ => random.Next()).ToArray();
        var gIdx = rank.Select(r => r / groupSize).ToArray();

        var qweight = GptqPacking.PackQWeight(codes, inFeatures, outFeatures, bits);
        var qzeros = GptqPacking.PackQZeros(zeros, groups, outFeatures, bits, GptqCheckpointFormat.Gptq);
        var w = GptqReference.Dequantize(qweight, qzeros, scales, gIdx, inFeatures, outFeatures, bits, GptqCheckpointFormat.Gptq);

        for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++)
            {
                int g = gIdx[i];
                Assert.Equal(scales[g * outFeatures + o] * (codes[i * outFeatures + o] - zeros[g * outFeatures + o]),
                    w[o * inFeatures + i]);
            }
        var inOrder = GptqReference.Dequantize(qweight, qzeros, scales, GptqPacking.DefaultGIdx(inFeatures, groupSize), inFeatures,
            outFeatures, bits, GptqCheckpointFormat.Gptq);
        Assert.NotEqual(inOrder, w);
    }

    [Fact]
    public void GIdxOutsideTheGroupsIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            GptqReference.Dequantize(new int[8], [0], new float[8], [0, 0, 0, 0, 0, 0, 0, 1], 8, 8, 4, GptqCheckpointFormat.GptqV2));
    }
}
