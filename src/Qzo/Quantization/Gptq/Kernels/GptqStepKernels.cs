using ILGPU;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>The GPTQ steps of <see cref="IGptqKernels"/> (documented there), one thread per element or per output row.</summary>
static class GptqStepKernels
{
    /// <param name="Rows">outputs</param><param name="Columns">inputs</param>
    public readonly record struct Shape(int Rows, int Columns, int GroupSize, int Bits, int Sym);

    /// <summary>The block's columns start … start + width − 1; FindGrids ≠ 0: groups find their grids as they start.</summary>
    public readonly record struct Range(int Start, int Width, int FindGrids);

    /// <summary>One thread per element (i, j) of h.</summary>
    public static void Hessian(Index1D index, ArrayView<float> sum, ArrayView<int> inputs, ArrayView<int> dead, ArrayView<double> h, int n,
        double damp)
    {
        int i = index / n, j = index - i * n;
        int a = inputs[i], b = inputs[j];
        double v = a == b && dead[a] != 0 ? 1.0 : 0.5 * ((double)sum[(long)a * n + b] + sum[(long)b * n + a]);
        h[index] = i == j ? v + damp : v;
    }

    /// <summary>One thread per element (r, j) of w.</summary>
    public static void Weights(Index1D index, ArrayView<float> weight, ArrayView<int> inputs, ArrayView<int> dead, ArrayView<double> w,
        int n)
    {
        int r = index / n, j = index - r * n;
        int input = inputs[j];
        w[index] = dead[input] != 0 ? 0.0 : weight[(long)r * n + input];
    }

    /// <summary>One thread per (group k, output r): index = k·rows + r.</summary>
    public static void Grids(Index1D index, ArrayView<float> weight, ArrayView<int> dead, ArrayView<float> scales, ArrayView<int> zeros,
        ArrayView<int> status,
                             Shape s, int zeroDead)
    {
        int k = index / s.Rows, r = index - k * s.Rows;
        int begin = k * s.GroupSize, end = begin + s.GroupSize < s.Columns ? begin + s.GroupSize : s.Columns;
        float xmin = 0, xmax = 0;
        for (int i = begin; i < end; i++)
        {
            float v = zeroDead != 0 && dead[i] != 0 ? 0f : weight[(long)r * s.Columns + i];
            if (v < xmin) xmin = v;
            if (v > xmax) xmax = v;
        }
        if (!GptqGridMath.Params(xmin, xmax, s.Bits, s.Sym != 0, out float scale, out int zero)) Atomic.Min(ref status[0], index);
        scales[index] = scale;
        zeros[index] = zero;
    }

    /// <summary>
    /// One thread per output row r: the column loop of one block. err [width, rows] holds the row's working values
    /// (W1 in AutoGPTQ) until each column's error replaces them; reads and writes there are coalesced across rows.
    /// </summary>
    public static void Block(Index1D index, ArrayView<double> w, ArrayView<double> u, ArrayView<int> inputs, ArrayView<int> groupOf,
                             ArrayView<float> scales, ArrayView<int> zeros, ArrayView<int> codes, ArrayView<double> err,
                             ArrayView<int> status,
                             Shape s, Range range)
    {
        int r = index, start = range.Start, width = range.Width, findGrids = range.FindGrids;
        int n = s.Columns, rows = s.Rows, maxq = (1 << s.Bits) - 1;
        long row = (long)r * n;
        for (int c = 0; c < width; c++) err[(long)c * rows + r] = w[row + start + c];
        for (int c = 0; c < width; c++)
        {
            int j = start + c;
            if (findGrids != 0 && j % s.GroupSize == 0)
            {
                int end = j + s.GroupSize < n ? j + s.GroupSize : n;
                float xmin = 0, xmax = 0;
                for (int i = j; i < end; i++)
                {
                    float v = (float)w[row + i];
                    if (v < xmin) xmin = v;
                    if (v > xmax) xmax = v;
                }
                int slot = j / s.GroupSize * rows + r;
                if (!GptqGridMath.Params(xmin, xmax, s.Bits, s.Sym != 0, out float found, out int foundZero)) Atomic.Min(ref status[0],
                    slot);
                scales[slot] = found;
                zeros[slot] = foundZero;
            }
            int gi = groupOf[j] * rows + r;
            double step = scales[gi], x = err[(long)c * rows + r];
            int zero = zeros[gi];
            int q = GptqGridMath.Code(x, step, zero, maxq);
            codes[(long)inputs[j] * rows + r] = q;
            double e = (x - step * (q - zero)) / u[(long)j * n + j];
            err[(long)c * rows + r] = e;
            long uRow = (long)j * n + start;
            for (int k = c + 1; k < width; k++) err[(long)k * rows + r] = u[uRow + k] * -e + err[(long)k * rows + r];
        }
    }
}
