using System.Numerics;

namespace Qzo.Quantization;

/// <summary>
/// Nearest-codeword search over one codebook of K vectors of dimension D: argmin_k ‖c_k‖² − 2·x·c_k, with the
/// codebook held transposed ([D][K]) so the K distances of one query are computed Vector&lt;float&gt; lanes at a time.
/// Ties go to the lower index.
/// </summary>
sealed class NearestCodeword
{
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

    public int Find(ReadOnlySpan<float> x)
    {
        int width = Vector<float>.Count, best = 0;
        float bestDistance = float.PositiveInfinity;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var scores = new float[width];
            for (; i + width <= _k; i += width)
            {
                var distance = new Vector<float>(_norms, i);
                for (int j = 0; j < _d; j++) distance -= new Vector<float>(2f * x[j]) * new Vector<float>(_transposed, j * _k + i);
                if (Vector.LessThanAny(distance, new Vector<float>(bestDistance)))
                {
                    distance.CopyTo(scores);
                    for (int l = 0; l < width; l++)
                        if (scores[l] < bestDistance) { bestDistance = scores[l]; best = i + l; }
                }
            }
        }
        for (; i < _k; i++)
        {
            float distance = _norms[i];
            for (int j = 0; j < _d; j++) distance -= 2f * x[j] * _transposed[j * _k + i];
            if (distance < bestDistance) { bestDistance = distance; best = i; }
        }
        return best;
    }
}
