using Qzo.Quantization.Gptq;

namespace Qzo.Quantization.Aqlm;

/// <summary>
/// How hard <see cref="AqlmQuantizer"/> works: Lloyd iterations per codebook at initialization, then rounds of joint refinement.
/// </summary>
public sealed record AqlmQuantizerOptions(int KMeansIterations = 6, int Rounds = 3, int Seed = 0);

/// <summary>
/// A plain additive quantizer in the AQLM layout, without calibration data (it minimizes ‖W − Ŵ‖², not AQLM's
/// activation-weighted error, and has no beam search or fine-tuning):
/// <list type="number">
/// <item>scale per output group r = the Frobenius norm of its rows; the weight is divided by it;</item>
/// <item>the weight is cut into vectors of O×I values; codebook c is initialized by k-means (Lloyd, random distinct
/// vectors as seeds) on what the earlier codebooks left (residual quantization);</item>
/// <item>rounds of block coordinate descent on the squared error: for each codebook in turn, every vector takes the
/// codeword nearest its target (the vector minus the other codebooks' words), then each codeword becomes the mean of
/// its targets (the least-squares codebook given the codes); an unused codeword keeps its value;</item>
/// <item>codebooks rounded to fp16, then each scale refitted by least squares against the decoded rows.</item>
/// </list>
/// </summary>
public static class AqlmQuantizer
{
    public static AqlmLinearTensors Quantize(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, AqlmScheme scheme,
        AqlmQuantizerOptions? options = null)
    {
        options ??= new AqlmQuantizerOptions();
        scheme.Validate("AQLM");
        int o = scheme.OutGroupSize, ig = scheme.InGroupSize, d = o * ig, m = scheme.Codebooks, k = scheme.CodebookSize;
        if (outFeatures % o != 0 || inFeatures % ig != 0)
            throw new QzoException($"a [{outFeatures}, {inFeatures}] weight does not split into AQLM groups of {o} outputs × {ig} inputs");
        if (weight.Length != (long)outFeatures * inFeatures) throw new ArgumentException(
            $"weight has {weight.Length} values, expected {outFeatures}·{inFeatures}", nameof(weight));
        foreach (float w in weight) if (!float.IsFinite(w)) throw new QzoException($"cannot quantize a non-finite weight ({w})");

        int outGroups = outFeatures / o, inGroups = inFeatures / ig, n = outGroups * inGroups;
        var norms = new float[outGroups];
        for (int r = 0; r < outGroups; r++)
        {
            double sum = 0;
            foreach (float w in weight.Slice(r * o * inFeatures, o * inFeatures)) sum += (double)w * w;
            norms[r] = (float)Math.Sqrt(sum);
        }
        var vectors = Vectors(weight, norms, scheme, outFeatures, inFeatures); // [n, d], each row scaled by 1/norm

        var random = new Random(options.Seed);
        var codebooks = new float[m][];
        var codes = new int[m][];
        var residual = (float[])vectors.Clone();
        for (int c = 0; c < m; c++)
        {
            codebooks[c] = KMeans(residual, n, d, k, options.KMeansIterations, random, out codes[c]);
            for (int v = 0; v < n; v++)
                for (int j = 0; j < d; j++) residual[v * d + j] -= codebooks[c][codes[c][v] * d + j];
        }
        for (int round = 0; round < options.Rounds && m > 1; round++)
            for (int c = 0; c < m; c++)
            {
                var target = Target(vectors, codebooks, codes, c, n, d);
                codes[c] = Assign(target, codebooks[c], n, d, k);
                Update(target, codes[c], codebooks[c], n, d, k);
            }

        var storedCodebooks = codebooks.SelectMany(cb => cb).Select(v => (Half)v).ToArray();
        var flatCodes = new int[n * m];
        for (int v = 0; v < n; v++)
            for (int c = 0; c < m; c++) flatCodes[v * m + c] = codes[c][v];
        var unit = new AqlmLinearTensors(scheme, outFeatures, inFeatures, flatCodes, storedCodebooks,
            Enumerable.Repeat(Half.One, outGroups).ToArray()).Dequantize();
        var scales = new Half[outGroups];
        for (int r = 0; r < outGroups; r++) scales[r] = FitScale(weight.Slice(r * o * inFeatures, o * inFeatures),
            unit.AsSpan(r * o * inFeatures, o * inFeatures), norms[r]);
        return new AqlmLinearTensors(scheme, outFeatures, inFeatures, flatCodes, storedCodebooks, scales);
    }

    /// <summary>Vector v = (r, k) holds W[O·r + a, I·k + j] / norm[r] at a·I + j.</summary>
    static float[] Vectors(ReadOnlySpan<float> weight, float[] norms, AqlmScheme s, int outFeatures, int inFeatures)
    {
        int o = s.OutGroupSize, ig = s.InGroupSize, d = o * ig, inGroups = inFeatures / ig;
        var vectors = new float[outFeatures / o * inGroups * d];
        for (int row = 0; row < outFeatures; row++)
        {
            int r = row / o, a = row % o;
            float inverse = norms[r] > 0 ? 1f / norms[r] : 0f;
            for (int i = 0; i < inFeatures; i++)
                vectors[((r * inGroups + i / ig) * d) + a * ig + i % ig] = weight[row * inFeatures + i] * inverse;
        }
        return vectors;
    }

    static float[] KMeans(float[] data, int n, int d, int k, int iterations, Random random, out int[] codes)
    {
        var codebook = new float[k * d];
        // Seeds: distinct vectors in random order; with fewer vectors than codewords every vector is a codeword.
        var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
        for (int i = 0; i < k; i++) Array.Copy(data, order[i % n] * d, codebook, i * d, d);
        codes = Assign(data, codebook, n, d, k);
        for (int iteration = 0; iteration < iterations && n > k; iteration++)
        {
            Update(data, codes, codebook, n, d, k);
            codes = Assign(data, codebook, n, d, k);
        }
        return codebook;
    }

    static int[] Assign(float[] data, float[] codebook, int n, int d, int k)
    {
        var search = new NearestCodeword(codebook, k, d);
        var codes = new int[n];
        Parallel.For(0, (n + 1023) / 1024, chunk =>
        {
            int end = Math.Min(n, chunk * 1024 + 1024);
            for (int v = chunk * 1024; v < end; v += NearestCodeword.Block)
            {
                int count = Math.Min(NearestCodeword.Block, end - v);
                search.Find(data.AsSpan(v * d, count * d), count, codes.AsSpan(v, count));
            }
        });
        return codes;
    }

    /// <summary>Each used codeword becomes the mean of the vectors assigned to it (in double).</summary>
    static void Update(float[] data, int[] codes, float[] codebook, int n, int d, int k)
    {
        var sums = new double[k * d];
        var counts = new int[k];
        for (int v = 0; v < n; v++)
        {
            counts[codes[v]]++;
            for (int j = 0; j < d; j++) sums[codes[v] * d + j] += data[v * d + j];
        }
        for (int i = 0; i < k; i++)
            if (counts[i] > 0)
                for (int j = 0; j < d; j++) codebook[i * d + j] = (float)(sums[i * d + j] / counts[i]);
    }

    /// <summary>The vectors minus every codebook's word but codebook <paramref name="skip"/>'s.</summary>
    static float[] Target(float[] vectors, float[][] codebooks, int[][] codes, int skip, int n, int d)
    {
        var target = (float[])vectors.Clone();
        for (int c = 0; c < codebooks.Length; c++)
        {
            if (c == skip) continue;
            for (int v = 0; v < n; v++)
                for (int j = 0; j < d; j++) target[v * d + j] -= codebooks[c][codes[c][v] * d + j];
        }
        return target;
    }

    /// <summary>
    /// argmin_s ‖w − s·u‖² = ⟨w, u⟩ / ⟨u, u⟩ for one output group, as fp16; the norm where that is not positive.
    /// </summary>
    static Half FitScale(ReadOnlySpan<float> w, ReadOnlySpan<float> unit, float norm)
    {
        double dot = 0, square = 0;
        for (int i = 0; i < w.Length; i++) { dot += (double)w[i] * unit[i]; square += (double)unit[i] * unit[i]; }
        double scale = square > 0 && dot > 0 ? dot / square : norm;
        return GptqGrid.ToStoredScale((float)scale);
    }
}
