using System.Numerics.Tensors;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;
using static Qzo.Compute.Cpu.CpuBackend;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// GPTQ's steps as plain loops; the arithmetic is <see cref="GptqQuantizer"/>'s, operation for operation, with the grid
/// of the kernels (<see cref="GptqGridMath"/>, equal to <see cref="GptqGrid"/>'s).
/// </summary>
sealed partial class CpuGptqKernels
{
    public void Hessian(DeviceTensor sum, DeviceTensor inputs, DeviceTensor dead, int n, double damp, DeviceTensor h)
    {
        var st = RequireType(sum, DType.F32); var ht = RequireType(h, DType.F64);
        var order = I(inputs)[..n].ToArray(); var isDead = I(dead)[..n].ToArray();
        ParallelRows(n, (long)n * n, i =>
        {
            var s = st.Span<float>(); var row = ht.Span<double>().Slice(i * n, n);
            int a = order[i];
            for (int j = 0; j < n; j++)
            {
                int b = order[j];
                double v = a == b && isDead[a] != 0 ? 1.0 : 0.5 * ((double)s[a * n + b] + s[b * n + a]);
                row[j] = i == j ? v + damp : v;
            }
        });
    }

    public void Weights(DeviceTensor weight, DeviceTensor inputs, DeviceTensor dead, int rows, int n, DeviceTensor w)
    {
        var wt = RequireType(weight, DType.F32); var target = RequireType(w, DType.F64);
        var order = I(inputs)[..n].ToArray(); var isDead = I(dead)[..n].ToArray();
        ParallelRows(rows, (long)rows * n, r =>
        {
            var source = wt.Span<float>().Slice(r * n, n); var row = target.Span<double>().Slice(r * n, n);
            for (int j = 0; j < n; j++) row[j] = isDead[order[j]] != 0 ? 0.0 : source[order[j]];
        });
    }

    public void Grids(DeviceTensor weight, DeviceTensor dead, GptqStepShape shape, bool zeroDead, DeviceTensor scales, DeviceTensor zeros,
                      DeviceTensor status)
    {
        var wt = RequireType(weight, DType.F32); var isDead = I(dead)[..shape.Columns].ToArray();
        var sc = RequireType(scales, DType.F32); var zt = RequireType(zeros, DType.I32); var statusTensor = RequireType(status, DType.I32);
        int rows = shape.Rows, n = shape.Columns, g = shape.GroupSize;
        ParallelRows(shape.Groups * rows, (long)rows * n, index =>
        {
            int k = index / rows, r = index % rows, begin = k * g, width = Math.Min(g, n - begin);
            var values = wt.Span<float>().Slice(r * n + begin, width).ToArray();
            if (zeroDead) for (int i = 0; i < width; i++) if (isDead[begin + i] != 0) values[i] = 0;
            SetGrid(values, index, shape, sc, zt, statusTensor);
        });
    }

    public void Block(DeviceTensor w, DeviceTensor u, DeviceTensor inputs, DeviceTensor groupOf, GptqStepShape shape, int start, int width,
                      bool findGrids, DeviceTensor scales, DeviceTensor zeros, DeviceTensor codes, DeviceTensor err, DeviceTensor status)
    {
        var wt = RequireType(w, DType.F64); var ut = RequireType(u, DType.F64); var et = RequireType(err, DType.F64);
        var sc = RequireType(scales, DType.F32); var zt = RequireType(zeros, DType.I32); var ct = RequireType(codes, DType.I32);
        var statusTensor = RequireType(status, DType.I32);
        int rows = shape.Rows, n = shape.Columns, g = shape.GroupSize, maxq = (1 << shape.Bits) - 1;
        var order = I(inputs)[..n].ToArray(); var group = I(groupOf)[..n].ToArray();
        ParallelRows(rows, (long)rows * width * width, r =>
        {
            var row = wt.Span<double>().Slice(r * n, n);
            var w1 = row.Slice(start, width).ToArray();
            for (int c = 0; c < width; c++)
            {
                int j = start + c;
                if (findGrids && j % g == 0)
                {
                    var values = new float[Math.Min(g, n - j)];
                    for (int i = 0; i < values.Length; i++) values[i] = (float)row[j + i]; // W as the earlier blocks left it
                    SetGrid(values, j / g * rows + r, shape, sc, zt, statusTensor);
                }
                int gi = group[j] * rows + r;
                double step = sc.Span<float>()[gi], x = w1[c];
                int zero = zt.Span<int>()[gi];
                int q = (int)Math.Clamp(Math.Round(x / step) + zero, 0, maxq);
                ct.Span<int>()[order[j] * rows + r] = q;
                double e = (x - step * (q - zero)) / ut.Span<double>()[j * n + j];
                w1[c] = e;
                if (c + 1 < width)
                    TensorPrimitives.MultiplyAdd<double>(ut.Span<double>().Slice(j * n + j + 1, width - c - 1), -e, w1.AsSpan(c + 1),
                        w1.AsSpan(c + 1));
            }
            var errors = et.Span<double>();
            for (int c = 0; c < width; c++) errors[c * rows + r] = w1[c];
        });
    }

    /// <summary>find_params and the stored fp16 scale; an overflowing scale marks status.</summary>
    static void SetGrid(float[] values, int slot, GptqStepShape shape, CpuTensor scales, CpuTensor zeros, CpuTensor status)
    {
        float xmin = 0, xmax = 0;
        foreach (float v in values)
        {
            if (v < xmin) xmin = v;
            if (v > xmax) xmax = v;
        }
        if (!GptqGridMath.Params(xmin, xmax, shape.Bits, shape.Sym, out float scale, out int zero))
            lock (status) status.Span<int>()[0] = Math.Min(status.Span<int>()[0], slot);
        scales.Span<float>()[slot] = scale;
        zeros.Span<int>()[slot] = zero;
    }
}
