using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

public class GptqQuantizerTests
{
    /// <summary>
    /// Calibration-like inputs [tokens, n]: a low-rank signal (every input a mix of n/4 latent factors), a little
    /// independent noise, and a few outlier inputs ten times larger, as activations of real LLMs have them.
    /// </summary>
    public static float[] CorrelatedInputs(int tokens, int n, int seed, int[]? deadInputs = null)
    {
        var random = new Random(seed);
        int k = Math.Max(2, n / 4);
        var mix = Gaussian(random, k * n, 1 / MathF.Sqrt(k));
        var x = new float[tokens * n];
        var latent = new float[k];
        for (int t = 0; t < tokens; t++)
        {
            for (int a = 0; a < k; a++) latent[a] = Gaussian(random);
            for (int j = 0; j < n; j++)
            {
                float v = 0.1f * Gaussian(random);
                for (int a = 0; a < k; a++) v += latent[a] * mix[a * n + j];
                x[t * n + j] = j % 17 == 3 ? 10 * v : v;
            }
        }
        foreach (int j in deadInputs ?? []) for (int t = 0; t < tokens; t++) x[t * n + j] = 0;
        return x;
    }

    /// <summary>H = XᵀX in double, rounded to float as the accumulator would hold it (exactly symmetric).</summary>
    public static float[] Hessian(float[] x, int tokens, int n)
    {
        var h = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int t = 0; t < tokens; t++) s += (double)x[t * n + i] * x[t * n + j];
                h[i * n + j] = h[j * n + i] = (float)s;
            }
        return h;
    }

    public static float[] Gaussian(Random random, int count, float std) =>
        Enumerable.Range(0, count).Select(_ => std * Gaussian(random)).ToArray();

    static float Gaussian(Random random) =>
        MathF.Sqrt(-2 * MathF.Log(1 - random.NextSingle())) * MathF.Cos(2 * MathF.PI * random.NextSingle());

    public static TheoryData<int, int, bool, bool, bool, int> ReferenceCases() => new()
    {
        // bits, group, sym, act-order, static groups, block size
        { 4, 16, true, false, false, 16 },
        { 3, 32, false, false, false, 32 },
        { 2, -1, true, true, false, 16 },
        { 4, 16, false, true, false, 8 },
        { 8, 32, true, true, true, 16 },
        { 3, -1, false, false, false, 64 },
        { 4, 24, true, false, false, 16 },   // groups straddle blocks: a group's grid comes from W as the block began
        { 2, 16, false, true, false, 64 },   // several groups per block: the same, inside the block
        { 4, 32, true, true, true, 128 },    // one block over everything
    };

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void MatchesThePlainObsReferenceCodeForCode(int bits, int groupSize, bool sym, bool actOrder, bool staticGroups, int blockSize)
    {
        const int rows = 32, n = 64, tokens = 256;
        int seed = bits * 1000 + groupSize * 10 + blockSize + (actOrder ? 7 : 0) + (sym ? 0 : 3);
        var x = CorrelatedInputs(tokens, n, seed, deadInputs: [5]);
        var h = Hessian(x, tokens, n);
        var weight = Gaussian(new Random(seed + 1), rows * n, 0.05f);
        var settings = new GptqSettings(bits, groupSize, sym, actOrder, staticGroups, DampPercent: 0.01, BlockSize: blockSize);

        var solution = GptqQuantizer.Quantize(weight, rows, n, h, settings);
        var reference = ReferenceGptq.Run(weight, rows, n, h.Select(v => (double)v).ToArray(), bits, groupSize, sym, actOrder, staticGroups,
            0.01, blockSize);

        Assert.Equal(reference.GIdx, solution.GIdx);
        Assert.Equal(reference.Scales, solution.Scales);
        Assert.Equal(reference.Zeros, solution.Zeros);
        int differing = reference.Codes.Zip(solution.Codes).Count(p => p.First != p.Second);
        Assert.True(differing == 0, $"{differing} of {reference.Codes.Length} codes differ from the reference");
        if (actOrder && groupSize != -1 && !staticGroups)
            Assert.NotEqual(GptqPacking.DefaultGIdx(n, groupSize), solution.GIdx); // act-order really regrouped the inputs
    }

    [Fact]
    public void UpperFactorOfTheInverseIsTheCholeskyFactorGptqUses()
    {
        const int n = 40;
        var x = CorrelatedInputs(200, n, 3);
        var h = Hessian(x, 200, n).Select(v => (double)v).ToArray();
        for (int j = 0; j < n; j++) h[j * n + j] += 1;
        var inverse = ReferenceGptq.Inverse(To2D(h, n), n);
        var notPositive = h.ToArray();
        notPositive[3 * n + 3] = -1;
        var u = CholeskyInverse.UpperFactorOfInverse(h, n)!; // overwrites h
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (j < i) { Assert.Equal(0, u[i * n + j]); continue; }
                double uu = 0;
                for (int k = 0; k <= Math.Min(i, j); k++) uu += u[k * n + i] * u[k * n + j];
                Assert.True(Math.Abs(uu - inverse[i, j]) <= 1e-9 * Math.Abs(inverse[i, i]),
                    $"(UᵀU)[{i},{j}] = {uu}, H⁻¹ = {inverse[i, j]}");
            }
        Assert.All(Enumerable.Range(0, n), i => Assert.True(u[i * n + i] > 0));

        Assert.Null(CholeskyInverse.UpperFactorOfInverse(notPositive, n));
    }

    static double[,] To2D(double[] a, int n)
    {
        var m = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) m[i, j] = a[i * n + j];
        return m;
    }

    public static TheoryData<int, bool> ErrorCases() =>
        new() { { 2, false }, { 2, true }, { 3, false }, { 3, true }, { 4, false }, { 4, true } };

    /// <summary>
    /// The point of GPTQ: on correlated inputs its layer output error ‖XWᵀ − XŴᵀ‖ is well below round-to-nearest's.
    /// </summary>
    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void LayerOutputErrorIsBelowRtnsOnCorrelatedInputs(int bits, bool actOrder)
    {
        const int rows = 64, n = 128, tokens = 512, groupSize = 32;
        var x = CorrelatedInputs(tokens, n, 100 + bits);
        var weight = Gaussian(new Random(200 + bits), rows * n, 0.05f);
        var config = new GptqConfig(bits, groupSize, actOrder, Sym: true, GptqCheckpointFormat.Gptq);

        var gptq = GptqQuantizer.Quantize(weight, rows, n, Hessian(x, tokens, n), GptqSettings.From(config)).Dequantize();
        var rtnTensors = RtnQuantizer.Quantize(weight, rows, n, config);
        var rtn = GptqReference.Dequantize(rtnTensors.QWeight, rtnTensors.QZeros, rtnTensors.Scales.Select(s => (float)s).ToArray(),
            rtnTensors.GIdx, n, rows, bits, config.Format);

        double gptqError = OutputError(x, tokens, n, weight, gptq, rows), rtnError = OutputError(x, tokens, n, weight, rtn, rows);
        Assert.True(gptqError < 0.7 * rtnError,
            $"{bits}-bit{(actOrder ? " act-order" : "")}: GPTQ ‖ΔY‖ {gptqError:G4} vs RTN {rtnError:G4}");
    }

    /// <summary>‖X·Wᵀ − X·Ŵᵀ‖_F, computed directly.</summary>
    static double OutputError(float[] x, int tokens, int n, float[] w, float[] quantized, int rows)
    {
        double sum = 0;
        for (int t = 0; t < tokens; t++)
            for (int o = 0; o < rows; o++)
            {
                double d = 0;
                for (int i = 0; i < n; i++) d += (double)x[t * n + i] * (w[o * n + i] - quantized[o * n + i]);
                sum += d * d;
            }
        return Math.Sqrt(sum);
    }

    [Fact]
    public void AccumulatedHessianAndRelativeErrorAgreeWithTheDirectComputation()
    {
        const int rows = 32, n = 64, tokens = 300;
        var x = CorrelatedInputs(tokens, n, 9);
        using var backend = new Qzo.Compute.Cpu.CpuBackend();
        using var accumulator = new HessianAccumulator(backend, n);
        accumulator.Add(x.AsSpan(0, 100 * n), 100); // in two calls, as batches arrive
        accumulator.Add(x.AsSpan(100 * n), tokens - 100);
        Assert.Equal(tokens, accumulator.Rows);
        var direct = Hessian(x, tokens, n);
        var sum = accumulator.Download();
        for (int i = 0; i < direct.Length; i++)
            Assert.True(Math.Abs(sum[i] - direct[i]) <= 1e-4 * Math.Abs(direct[i / n * n + i / n]), $"H[{i / n},{i % n}]");

        var weight = Gaussian(new Random(1), rows * n, 0.05f);
        var quantized = weight.Select(v => MathF.Round(v * 20) / 20).ToArray();
        double expected = OutputError(x, tokens, n, weight, quantized, rows)
            / OutputError(x, tokens, n, weight, new float[weight.Length], rows);
        Assert.Equal(expected, accumulator.RelativeError(weight, quantized, rows), 4);
    }

    [Fact]
    public void DeadInputsGetZeroWeightsAndPackedTensorsDequantizeToTheSolution()
    {
        const int rows = 32, n = 64, tokens = 128;
        var x = CorrelatedInputs(tokens, n, 4, deadInputs: [0, 17, 40]);
        var weight = Gaussian(new Random(5), rows * n, 0.05f);
        var settings = new GptqSettings(4, 32, Sym: false, ActOrder: true);
        var solution = GptqQuantizer.Quantize(weight, rows, n, Hessian(x, tokens, n), settings);
        var dequantized = solution.Dequantize();
        foreach (int j in new[] { 0, 17, 40 })
            for (int o = 0; o < rows; o++) Assert.Equal(0f, dequantized[o * n + j]);

        var packed = solution.Pack(GptqCheckpointFormat.GptqV2);
        var unpacked = GptqReference.Dequantize(packed.QWeight, packed.QZeros, packed.Scales.Select(s => (float)s).ToArray(), packed.GIdx,
            n, rows, 4, GptqCheckpointFormat.GptqV2);
        Assert.Equal(dequantized, unpacked);
        // Dead inputs have H[j,j] = 1 after the fix, far below the live ones: act-order puts them last.
        Assert.Equal(new[] { 0, 17, 40 }, solution.Order[^3..].Order());
    }

    [Fact]
    public void BadSettingsAreRefused()
    {
        var h = new float[32 * 32];
        for (int j = 0; j < 32; j++) h[j * 32 + j] = 1;
        var w = new float[32 * 32];
        Assert.Throws<QzoException>(() => GptqQuantizer.Quantize(w, 32, 32, h, new GptqSettings(4, 32, true, DampPercent: 0)));
        Assert.Throws<QzoException>(() => GptqQuantizer.Quantize(w, 32, 32, h, new GptqSettings(4, 32, true, BlockSize: 0)));
        Assert.Throws<QzoException>(() => GptqQuantizer.Quantize(w, 32, 32, h, new GptqSettings(5, 32, true)));
        h[3] = float.NaN; h[3 * 32] = float.NaN; h[3 * 33] = float.NaN;
        Assert.Throws<QzoException>(() => GptqQuantizer.Quantize(w, 32, 32, h, new GptqSettings(4, 32, true)));
    }
}
