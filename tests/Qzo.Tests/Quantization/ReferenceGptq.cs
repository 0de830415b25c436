using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

/// <summary>
/// GPTQ written the plain way, as the oracle for <see cref="GptqQuantizer"/>: no blocks and no Cholesky trick, but the
/// Optimal Brain Surgeon update it is derived from, in double. H⁻¹ is formed explicitly (Cholesky H = LLᵀ, then
/// H⁻¹ = L⁻ᵀL⁻¹); after each column j is quantized, every later weight of the row moves by −(w_j − q_j)/[H⁻¹]_jj ·
/// [H⁻¹]_jk and column j is removed from the inverse (H⁻¹ −= H⁻¹[:, j]·H⁻¹[j, :] / H⁻¹[j, j]). GPTQ's U[j, k] equals
/// [H⁻¹]_jk / √[H⁻¹]_jj of that shrinking inverse, so both must agree code for code. The one thing blocking changes
/// is which weights a group's grid is read from: GPTQ reads W as it stood when the current block of
/// <paramref name="blockSize"/> columns began, which the reference reproduces with a snapshot at each block start.
/// </summary>
static class ReferenceGptq
{
    public sealed record Result(int[] Codes, Half[] Scales, int[] Zeros, int[] GIdx);

    /// <param name="weight">[rows, n]</param>
    /// <param name="h">[n, n], symmetric</param>
    public static Result Run(float[] weight, int rows, int n, double[] h, int bits, int groupSize, bool sym, bool actOrder,
                             bool staticGroups, double damp, int blockSize)
    {
        int maxq = (1 << bits) - 1, g = groupSize == -1 ? n : groupSize, groups = (n + g - 1) / g;
        bool one = g >= n, fixedGroups = staticGroups && !one;
        var w = new double[rows, n];
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) w[r, j] = weight[r * n + j];
        var H = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) H[i, j] = h[i * n + j];

        var scales = new Half[groups * rows];
        var zeros = new int[groups * rows];
        void Grid(int r, int k, IEnumerable<double> values)
        {
            var (scale, zero) = GptqGrid.FindParams(values.Select(v => (float)v).ToArray(), bits, sym);
            scales[k * rows + r] = GptqGrid.ToStoredScale(scale);
            zeros[k * rows + r] = zero;
        }

        if (one) for (int r = 0; r < rows; r++) Grid(r, 0, Enumerable.Range(0, n).Select(j => w[r, j]));
        for (int j = 0; j < n; j++)
            if (H[j, j] == 0) { H[j, j] = 1; for (int r = 0; r < rows; r++) w[r, j] = 0; }
        if (fixedGroups)
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < groups; k++) Grid(r, k, Enumerable.Range(k * g, Math.Min(g, n - k * g)).Select(j => w[r, j]));

        // Processing order: by descending diag(H), ties in input order; positions below are in that order.
        var order = Enumerable.Range(0, n).ToArray();
        if (actOrder) order = order.OrderByDescending(j => H[j, j]).ToArray();
        var W = new double[rows, n];
        var P = new double[n, n];
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) W[r, j] = w[r, order[j]];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) P[i, j] = H[order[i], order[j]];

        double mean = 0;
        for (int j = 0; j < n; j++) mean += P[j, j] / n;
        for (int j = 0; j < n; j++) P[j, j] += damp * mean;
        var inverse = Inverse(P, n);

        var codes = new int[n * rows];
        var gIdx = new int[n];
        double[,] snapshot = (double[,])W.Clone();
        for (int j = 0; j < n; j++)
        {
            if (j % blockSize == 0) snapshot = (double[,])W.Clone();
            int k = one ? 0 : fixedGroups ? order[j] / g : j / g;
            gIdx[order[j]] = k;
            for (int r = 0; r < rows; r++)
            {
                if (!one && !fixedGroups && j % g == 0)
                    Grid(r, k, Enumerable.Range(j, Math.Min(g, n - j)).Select(c => snapshot[r, c]));
                double step = (float)scales[k * rows + r];
                int zero = zeros[k * rows + r];
                int q = (int)Math.Clamp(Math.Round(W[r, j] / step) + zero, 0, maxq);
                codes[order[j] * rows + r] = q;
                double error = (W[r, j] - step * (q - zero)) / inverse[j, j];
                for (int c = j + 1; c < n; c++) W[r, c] -= error * inverse[j, c];
            }
            for (int a = j + 1; a < n; a++)
                for (int b = j + 1; b < n; b++)
                    inverse[a, b] -= inverse[a, j] * inverse[j, b] / inverse[j, j];
        }
        return new Result(codes, scales, zeros, gIdx);
    }

    /// <summary>A⁻¹ = L⁻ᵀL⁻¹ with A = LLᵀ, plain loops.</summary>
    public static double[,] Inverse(double[,] a, int n)
    {
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = a[i, j];
                for (int k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                l[i, j] = i == j ? Math.Sqrt(s) : s / l[j, j];
            }
        var m = new double[n, n]; // L⁻¹
        for (int c = 0; c < n; c++)
            for (int i = c; i < n; i++)
            {
                double s = i == c ? 1 : 0;
                for (int k = c; k < i; k++) s -= l[i, k] * m[k, c];
                m[i, c] = s / l[i, i];
            }
        var inverse = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = Math.Max(i, j); k < n; k++) s += m[k, i] * m[k, j];
                inverse[i, j] = s;
            }
        return inverse;
    }
}
