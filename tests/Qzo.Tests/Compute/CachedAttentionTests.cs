using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;

namespace Qzo.Tests.Compute;

/// <summary>The CPU backend's KV-cache operations against a plain double-precision definition.</summary>
public class CachedAttentionTests
{
    readonly CpuBackend _cpu = new();

    [Theory]
    [InlineData(2, 1, 9, 12, 4, 2, 8, 0)]   // one decode step, GQA, room left in the cache
    [InlineData(2, 3, 11, 11, 2, 1, 6, 4)]  // three new tokens at once, a window shorter than the cache
    [InlineData(2, 5, 5, 7, 2, 2, 4, 0)]    // the whole cache is new (a prefill); row 1's first query sees no key
    public void QueriesSeeTheCachedSlotsUpToTheirOwnWithinTheWindow(int batch, int newTokens, int cacheLength, int maxLength,
                                                                     int heads, int kvHeads, int headDim, int window)
    {
        var q = BackendTestData.Random(batch * newTokens * heads * headDim, 1);
        var keys = BackendTestData.Random(batch * maxLength * kvHeads * headDim, 2);
        var values = BackendTestData.Random(batch * maxLength * kvHeads * headDim, 3);
        var mask = Mask(batch, maxLength);
        for (int b = 0; b < batch; b++) // slots past the cached length hold garbage that must not be read
            for (int j = cacheLength; j < maxLength; j++)
                for (int e = 0; e < kvHeads * headDim; e++) values[(b * maxLength + j) * kvHeads * headDim + e] = 1e6f;

        using var output = _cpu.Allocate(DType.F32, q.Length, MemoryCategory.Activations);
        using var qt = Upload(q); using var kt = Upload(keys); using var vt = Upload(values); using var mt = Ints(mask);
        _cpu.CachedAttention(qt, kt, vt, mt, output, batch, newTokens, cacheLength, maxLength, heads, kvHeads, headDim, window);
        var expected = Reference(q, keys, values, mask, batch, newTokens, cacheLength, maxLength, heads, kvHeads, headDim, window);
        var actual = Read(output);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"element {i}: {actual[i]}, expected {expected[i]}");
    }

    [Fact]
    public void AppendWritesEachRowAtItsSlots()
    {
        const int batch = 2, count = 3, start = 4, maxLength = 8, width = 5;
        var rows = Enumerable.Range(0, batch * count * width).Select(i => (float)i + 1).ToArray();
        using var source = Upload(rows);
        using var cache = Upload(new float[batch * maxLength * width]);
        _cpu.AppendToCache(source, cache, batch, count, start, maxLength, width);
        var actual = Read(cache);
        for (int b = 0; b < batch; b++)
            for (int slot = 0; slot < maxLength; slot++)
                for (int e = 0; e < width; e++)
                {
                    int t = slot - start;
                    float expected = t is >= 0 and < count ? rows[(b * count + t) * width + e] : 0f;
                    Assert.Equal(expected, actual[(b * maxLength + slot) * width + e]);
                }
        Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.AppendToCache(source, cache, batch, count, start: 6, maxLength, width));
    }

    /// <summary>Row b: slot 0 is padding in row 1, slot 2 in every row (a hole the queries must skip).</summary>
    static int[] Mask(int batch, int maxLength) =>
        Enumerable.Range(0, batch * maxLength)
            .Select(i => i % maxLength == 2 || (i / maxLength == 1 && i % maxLength == 0) ? 0 : 1).ToArray();

    internal static double[] Reference(float[] q, float[] keys, float[] values, int[] mask, int batch, int newTokens, int cacheLength,
                                       int maxLength, int heads, int kvHeads, int headDim, int window)
    {
        var output = new double[q.Length];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < newTokens; t++)
                for (int h = 0; h < heads; h++)
                {
                    int i = cacheLength - newTokens + t, kvh = h / (heads / kvHeads);
                    var visible = Enumerable.Range(0, i + 1)
                        .Where(j => mask[b * maxLength + j] == 1 && (window == 0 || i - j < window)).ToList();
                    if (visible.Count == 0) continue;
                    int qBase = ((b * newTokens + t) * heads + h) * headDim;
                    int Slot(int j) => ((b * maxLength + j) * kvHeads + kvh) * headDim;
                    var scores = visible
                        .Select(j => Enumerable.Range(0, headDim).Sum(d => (double)q[qBase + d] * keys[Slot(j) + d]) / Math.Sqrt(headDim))
                        .ToList();
                    double max = scores.Max();
                    var weights = scores.Select(s => Math.Exp(s - max)).ToList();
                    double sum = weights.Sum();
                    for (int d = 0; d < headDim; d++)
                        output[qBase + d] = visible.Select((j, n) => weights[n] / sum * values[Slot(j) + d]).Sum();
                }
        return output;
    }

    DeviceTensor Upload(float[] values)
    {
        var t = _cpu.Allocate(DType.F32, values.Length, MemoryCategory.Activations);
        _cpu.Upload<float>(t, values);
        return t;
    }

    DeviceTensor Ints(int[] values)
    {
        var t = _cpu.Allocate(DType.I32, values.Length, MemoryCategory.Activations);
        _cpu.Upload<int>(t, values);
        return t;
    }

    float[] Read(DeviceTensor t)
    {
        var values = new float[t.Length];
        _cpu.Download<float>(t, values);
        return values;
    }
}
