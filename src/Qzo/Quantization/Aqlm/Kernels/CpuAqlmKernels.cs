using System.Numerics.Tensors;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;
using static Qzo.Compute.Cpu.CpuBackend;

namespace Qzo.Quantization.Aqlm.Kernels;

/// <summary>AQLM on the CPU backend: codebooks widened to fp32 once, then one output row per task.</summary>
sealed class CpuAqlmKernels : IAqlmKernels
{
    public void Dequantize(DeviceTensor codes, DeviceTensor codebooks, DeviceTensor scales, AqlmKernelShape shape,
                           Perturbation p, int scaleTensorIndex, DeviceTensor weight)
    {
        var codeTensor = Cpu(codes); var wt = RequireType(weight, DType.F32);
        var books = new float[(long)shape.Codebooks * shape.CodebookSize * shape.OutGroupSize * shape.InGroupSize];
        TensorPrimitives.ConvertToSingle(RequireType(codebooks, DType.F16).Span<Half>().Slice(0, books.Length), books);
        var effectiveScales = new float[shape.OutGroups];
        PerturbedCopyInto(F(scales), p, scaleTensorIndex, effectiveScales);
        int m = shape.Codebooks, size = shape.CodebookSize, o = shape.OutGroupSize, ig = shape.InGroupSize, inGroups = shape.InGroups;
        int inF = shape.InFeatures, bytesPerCode = shape.BytesPerCode, mask = size - 1;
        ParallelRows(shape.OutFeatures, (long)shape.OutFeatures * inF * m, row =>
        {
            var raw = codeTensor.Span<byte>(); var w = wt.Span<float>().Slice(row * inF, inF);
            int r = row / o, a = row % o;
            Span<int> rowCodes = stackalloc int[m];
            for (int k = 0; k < inGroups; k++)
            {
                for (int c = 0; c < m; c++)
                {
                    int at = ((r * inGroups + k) * m + c) * bytesPerCode;
                    rowCodes[c] = (bytesPerCode == 1 ? raw[at] : raw[at] | raw[at + 1] << 8) & mask;
                }
                for (int j = 0; j < ig; j++)
                {
                    float sum = 0f;
                    for (int c = 0; c < m; c++) sum += books[((c * size + rowCodes[c]) * o + a) * ig + j];
                    w[k * ig + j] = effectiveScales[r] * sum;
                }
            }
        });
    }
}
