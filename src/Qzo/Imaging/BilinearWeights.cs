namespace Qzo.Imaging;

/// <summary>
/// The taps of PIL's bilinear resampling along one axis (Pillow's Resample.c, precompute_coeffs): output pixel i is
/// centred at (i + 0.5)·scale in the input (scale = in / out); the triangle filter 1 − |x| is widened to a support of
/// max(scale, 1) input pixels, the window clipped to the image, and the weights normalised to sum to 1.
/// </summary>
sealed class BilinearWeights
{
    readonly int[] _first;
    readonly float[][] _weights;

    BilinearWeights(int[] first, float[][] weights)
    {
        _first = first;
        _weights = weights;
    }

    public static BilinearWeights For(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterScale; // the bilinear filter's support is 1
        var first = new int[outSize];
        var weights = new float[outSize][];
        for (int i = 0; i < outSize; i++)
        {
            double center = (i + 0.5) * scale;
            int min = Math.Max((int)(center - support + 0.5), 0);
            int max = Math.Min((int)(center + support + 0.5), inSize);
            var w = new double[max - min];
            double total = 0;
            for (int j = 0; j < w.Length; j++)
            {
                double x = Math.Abs((j + min - center + 0.5) / filterScale);
                w[j] = x < 1 ? 1 - x : 0;
                total += w[j];
            }
            first[i] = min;
            weights[i] = w.Select(v => total == 0 ? 0f : (float)(v / total)).ToArray();
        }
        return new BilinearWeights(first, weights);
    }

    /// <summary>Σ_j w_j · values[start + (first_i + j)·stride]: output pixel <paramref name="i"/> of a line.</summary>
    public float Apply(float[] values, long start, long stride, int i)
    {
        var w = _weights[i];
        long at = start + _first[i] * stride;
        double sum = 0;
        for (int j = 0; j < w.Length; j++, at += stride) sum += w[j] * (double)values[at];
        return (float)sum;
    }
}
