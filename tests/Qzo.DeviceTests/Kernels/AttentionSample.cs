namespace Qzo.DeviceTests.Kernels;

/// <summary>
/// The query rows a CPU reference computes for a full attention too large for it to compute whole (SD3.5 at 1024²: 4,429
/// joint tokens, the VAE's 16,384 pixels): about 48 rows spread over every query tile, and the last query (in the partial
/// tile). Every key stays, so each sampled row is exact: the CPU runs the same attention with fewer queries.
/// </summary>
sealed class AttentionSample
{
    readonly int _queries, _keys, _heads, _headDim;

    public AttentionSample(int queries, int keys, int heads, int headDim)
    {
        (_queries, _keys, _heads, _headDim) = (queries, keys, heads, headDim);
        int stride = Math.Max(1, queries / 48);
        Rows = Enumerable.Range(0, (queries - 1) / stride + 1).Select(r => r * stride).Append(queries - 1).Distinct().ToArray();
    }

    public int[] Rows { get; }

    /// <summary>q or output [batch, queries, heads, headDim] reduced to the sampled queries.</summary>
    public T[] OfQueries<T>(T[] all)
    {
        int row = _heads * _headDim, batch = all.Length / (_queries * row);
        var sampled = new T[batch * Rows.Length * row];
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < Rows.Length; r++)
                Array.Copy(all, ((long)b * _queries + Rows[r]) * row, sampled, ((long)b * Rows.Length + r) * row, row);
        return sampled;
    }

    /// <summary>bias [heads, queries, keys] reduced to the sampled queries.</summary>
    public float[] OfBias(float[] all)
    {
        var sampled = new float[_heads * Rows.Length * _keys];
        for (int h = 0; h < _heads; h++)
            for (int r = 0; r < Rows.Length; r++)
                Array.Copy(all, ((long)h * _queries + Rows[r]) * _keys, sampled, ((long)h * Rows.Length + r) * _keys, _keys);
        return sampled;
    }
}
