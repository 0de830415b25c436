using System.Numerics;

namespace Qzo.Quantization.Aqlm;

/// <summary>
/// Nearest-codeword search over one codebook of K vectors of dimension D: argmin_k ‖c_k‖² − 2·x·c_k, with the
/// codebook held transposed ([D][K]) so K distances are computed Vector&lt;float&gt; lanes at a time, for
/// <see cref="Block"/> queries at once (each loaded slice of the codebook serves all of them: the search is bound by
/// reading the codebook, 2 MiB for 65,536 words of 8). Ties go to the lower index.
/// </summary>
sealed class NearestCodeword
{
    public const int Block = 4;
    readonly float[] _transposed; // [D, K]
    readonly float[] _norms;      // [K]
    readonly int _k, _d;

    /// <param name="codebook">row-major [K, D]</param>
    public NearestCodeword(ReadOnlySpan<float> codebook, int k, int d)
    {
        _k = k; _d = d;
        _transposed = new float[d * k];
        _norms = new float[k];
        for (int i = 0; i < k; i++)
        {
            float norm = 0f;
            for (int j = 0; j < d; j++)
            {
                float v = codebook[i * d + j];
                _transposed[j * k + i] = v;
                norm += v * v;
            }
            _norms[i] = norm;
        }
    }

    /// <summary>
    /// The nearest codeword of each of <paramref name="count"/> (≤ <see cref="Block"/>) queries, rows of <paramref name="queries"/>
    /// [count, D].
    /// </summary>
    public void Find(ReadOnlySpan<float> queries, int count, Span<int> nearest)
    {
        int width = Vector<float>.Count;
        Span<float> best = stackalloc float[Block];
        Span<float> twiceX = stackalloc float[Block * _d];
        for (int q = 0; q < Block; q++)
        {
            best[q] = float.PositiveInfinity;
            if (q < count) nearest[q] = 0;
            for (int j = 0; j < _d; j++) twiceX[q * _d + j] = q < count ? 2f * queries[q * _d + j] : 0f;
        }
        Span<float> lanes = stackalloc float[width];
        var minusTwiceX = new Vector<float>[Block * _d]; // broadcasts, made once per call
        for (int e = 0; e < minusTwiceX.Length; e++) minusTwiceX[e] = new Vector<float>(-twiceX[e]);
        int i = 0;
        for (; Vector.IsHardwareAccelerated && i + width <= _k; i += width)
        {
            var norm = new Vector<float>(_norms, i);
            Vector<float> d0 = norm, d1 = norm, d2 = norm, d3 = norm;
            for (int j = 0; j < _d; j++)
            {
                var c = new Vector<float>(_transposed, j * _k + i);
                d0 = Vector.FusedMultiplyAdd(minusTwiceX[j], c, d0);
                d1 = Vector.FusedMultiplyAdd(minusTwiceX[_d + j], c, d1);
                d2 = Vector.FusedMultiplyAdd(minusTwiceX[2 * _d + j], c, d2);
                d3 = Vector.FusedMultiplyAdd(minusTwiceX[3 * _d + j], c, d3);
            }
            Keep(d0, i, ref best[0], ref nearest[0], lanes);
            if (count > 1) Keep(d1, i, ref best[1], ref nearest[1], lanes);
            if (count > 2) Keep(d2, i, ref best[2], ref nearest[2], lanes);
            if (count > 3) Keep(d3, i, ref best[3], ref nearest[3], lanes);
        }
        for (; i < _k; i++)
            for (int q = 0; q < count; q++)
            {
                float distance = _norms[i];
                for (int j = 0; j < _d; j++) distance -= twiceX[q * _d + j] * _transposed[j * _k + i];
                if (distance < best[q]) { best[q] = distance; nearest[q] = i; }
            }

    }

    static void Keep(Vector<float> distance, int start, ref float best, ref int nearest, Span<float> lanes)
    {
        if (!Vector.LessThanAny(distance, new Vector<float>(best))) return;
        distance.CopyTo(lanes);
        for (int l = 0; l < lanes.Length; l++)
            if (lanes[l] < best) { best = lanes[l]; nearest = start + l; }
    }
}
