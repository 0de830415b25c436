using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;

namespace Qzo.Tests.Compute;

/// <summary>The CPU backend's newer operations against plain double-precision definitions.</summary>
public class CpuOperationTests
{
    readonly CpuBackend _cpu = new();

    DeviceTensor Upload(float[] values)
    {
        var t = _cpu.Allocate(DType.F32, values.Length, MemoryCategory.Activations);
        _cpu.Upload<float>(t, values);
        return t;
    }

    float[] Read(DeviceTensor t)
    {
        var values = new float[t.Length];
        _cpu.Download<float>(t, values);
        return values;
    }

    [Fact]
    public void SlidingWindowQueryISeesKeysWithIMinusJBelowTheWindow()
    {
        // transformers masking_utils.sliding_window_overlay: visible iff kv_idx > q_idx − sliding_window, on top of
        // kv_idx ≤ q_idx (causal_mask_function); i.e. i − j < W, not ≤. With q = 0 every visible key gets the same
        // weight, so query i outputs the mean of the visible keys' values; v_j = j makes that mean name the keys.
        const int seq = 9, window = 3;
        using var q = Upload(new float[seq]);
        using var k = Upload(BackendTestData.Random(seq, 1));
        using var v = Upload(Enumerable.Range(0, seq).Select(j => (float)j).ToArray());
        using var mask = _cpu.Allocate(DType.I32, seq, MemoryCategory.Activations);
        _cpu.Upload<int>(mask, Enumerable.Repeat(1, seq).ToArray());
        using var output = _cpu.Allocate(DType.F32, seq, MemoryCategory.Activations);

        _cpu.CausalAttention(q, k, v, mask, output, 1, seq, 1, 1, 1, window);
        AssertClose([0, 0.5, 1, 2, 3, 4, 5, 6, 7], Read(output)); // i ≥ 2: mean of i−2, i−1, i (with ≤ it would be i−1.5)

        _cpu.CausalAttention(q, k, v, mask, output, 1, seq, 1, 1, 1, slidingWindow: 0);
        AssertClose(Enumerable.Range(0, seq).Select(i => i / 2.0).ToArray(), Read(output)); // full causal: mean of 0..i

        _cpu.CausalAttention(q, k, v, mask, output, 1, seq, 1, 1, 1, slidingWindow: seq);
        // a window as long as the sequence changes nothing
        AssertClose(Enumerable.Range(0, seq).Select(i => i / 2.0).ToArray(), Read(output));

        _cpu.Upload<int>(mask, [1, 1, 1, 1, 0, 1, 1, 1, 1]);
        _cpu.CausalAttention(q, k, v, mask, output, 1, seq, 1, 1, 1, window);
        Assert.Equal(5.5, Read(output)[6], 1e-5); // keys 4 (padding), 5, 6 are in the window: only 5 and 6 count
    }

    static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"element {i}: {actual[i]}, expected {expected[i]}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LayerNormIsTorchsWithTheBiasedVariance(bool affine)
    {
        const int rows = 3, dim = 40;
        const float eps = 1e-5f;
        var x = BackendTestData.Random(rows * dim, 2).Select((value, i) => value * 3 + i / dim).ToArray();
        var weight = BackendTestData.Random(dim, 3);
        var bias = BackendTestData.Random(dim, 4);
        using var xt = Upload(x); using var wt = Upload(weight); using var bt = Upload(bias);
        using var y = _cpu.Allocate(DType.F32, rows * dim, MemoryCategory.Activations);
        _cpu.LayerNorm(xt, affine ? wt : null, affine ? bt : null, y, rows, dim, eps);
        var actual = Read(y);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Skip(r * dim).Take(dim).Select(v => (double)v).ToArray();
            double mean = row.Average(), variance = row.Sum(v => (v - mean) * (v - mean)) / dim;
            for (int i = 0; i < dim; i++)
            {
                double expected = (row[i] - mean) / Math.Sqrt(variance + eps) * (affine ? weight[i] : 1) + (affine ? bias[i] : 0);
                Assert.Equal(expected, actual[r * dim + i], 1e-5);
            }
        }
    }

    [Fact]
    public void ReluZeroesNegativesOnly()
    {
        using var x = Upload([-2f, -0f, 0f, 1.5f, -1e-30f, 3f]);
        _cpu.ReluInPlace(x, 5);
        Assert.Equal([0f, 0f, 0f, 1.5f, 0f, 3f], Read(x)); // the sixth is past count and untouched
    }
}

static class BackendTestData
{
    public static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}
