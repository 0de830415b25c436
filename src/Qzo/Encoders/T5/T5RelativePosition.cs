namespace Qzo.Encoders.T5;

/// <summary>
/// T5's bidirectional relative position bias (models/t5/modeling_t5.py, T5Attention._relative_position_bucket and
/// compute_bias). The relative position r = key − query falls in a bucket: half of the buckets for r &gt; 0, half for
/// r ≤ 0; within a half, |r| below a quarter of the buckets ("exact") is its own bucket, larger |r| share logarithmic
/// bins up to max_distance and the last bucket beyond. The bias of head h is the bucket's row of the
/// relative_attention_bias table [buckets, heads], which only block 0 holds and every block reuses.
/// </summary>
public static class T5RelativePosition
{
    /// <summary>
    /// The bucket of relative position <paramref name="relative"/>. The logarithmic bins are computed as torch does in
    /// fp32 (log of |r|/exact, divided by fp32 log(max_distance/exact), times the bins, truncated), so the bins at powers
    /// of two land where transformers puts them.
    /// </summary>
    public static int Bucket(int relative, int buckets, int maxDistance)
    {
        int half = buckets / 2;
        int bucket = relative > 0 ? half : 0;
        int distance = Math.Abs(relative);
        int exact = half / 2;
        if (distance < exact) return bucket + distance;
        float logRatio = MathF.Log(distance / (float)exact);
        float range = (float)Math.Log(maxDistance / (double)exact);
        int large = exact + (int)(logRatio / range * (half - exact));
        return bucket + Math.Min(large, half - 1);
    }

    /// <summary>bucket[i, j] = Bucket(j − i) for i &lt; queries, j &lt; keys, row-major.</summary>
    public static int[] Buckets(int queries, int keys, int buckets, int maxDistance)
    {
        var byOffset = new int[queries + keys - 1];
        for (int r = -(queries - 1); r < keys; r++) byOffset[r + queries - 1] = Bucket(r, buckets, maxDistance);
        var result = new int[queries * keys];
        for (int i = 0; i < queries; i++)
            for (int j = 0; j < keys; j++) result[i * keys + j] = byOffset[j - i + queries - 1];
        return result;
    }

    /// <summary>
    /// The bias [heads, queries, keys] from the table [buckets, heads] (relative_attention_bias.weight):
    /// bias[h, i, j] = table[bucket(j − i), h] (compute_bias without its batch axis).
    /// </summary>
    public static float[] Bias(ReadOnlySpan<float> table, int heads, int queries, int keys, int buckets, int maxDistance)
    {
        if (table.Length != buckets * heads) throw new ArgumentException($"a table of {table.Length} values for {buckets} × {heads}");
        var index = Buckets(queries, keys, buckets, maxDistance);
        var bias = new float[(long)heads * queries * keys];
        for (int h = 0; h < heads; h++)
            for (int ij = 0; ij < index.Length; ij++) bias[(long)h * index.Length + ij] = table[index[ij] * heads + h];
        return bias;
    }
}
