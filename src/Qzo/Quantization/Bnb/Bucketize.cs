namespace Qzo.Quantization.Bnb;

static class Bucketize
{
    /// <summary>torch.bucketize(x, boundaries) (right=False): how many boundaries lie strictly below x.</summary>
    public static int Index(ReadOnlySpan<float> boundaries, float x)
    {
        int low = 0, high = boundaries.Length;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (boundaries[mid] < x) low = mid + 1;
            else high = mid;
        }
        return low;
    }

    /// <summary>The midpoints between neighbours of a sorted code (bitsandbytes' quantization boundaries).</summary>
    public static float[] Midpoints(ReadOnlySpan<float> sortedCode)
    {
        var bounds = new float[sortedCode.Length - 1];
        for (int k = 0; k < bounds.Length; k++) bounds[k] = (sortedCode[k] + sortedCode[k + 1]) / 2f;
        return bounds;
    }
}
