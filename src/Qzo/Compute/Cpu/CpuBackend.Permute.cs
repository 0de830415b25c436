using Qzo.Numerics;

namespace Qzo.Compute.Cpu;

/// <summary>Axis permutations and strided copies, byte-exact for any element type.</summary>
internal sealed partial class CpuBackend
{
    public unsafe void Permute(DeviceTensor x, DeviceTensor y, int[] shape, int[] order)
    {
        var plan = PermutePlan.Of(shape, order);
        var xt = Cpu(x); var yt = Cpu(y);
        if (xt.DType != yt.DType) throw new ArgumentException($"permute from {xt.DType} to {yt.DType}: both must be of one type");
        if (xt.Length < plan.Count || yt.Length < plan.Count)
            throw new ArgumentException($"permute of {plan.Count} elements: x has {xt.Length}, y has {yt.Length}");
        byte* from = (byte*)xt.Pointer, to = (byte*)yt.Pointer;
        switch (xt.DType.SizeInBytes())
        {
            case 1: PermuteRows((byte*)from, (byte*)to, plan); break;
            case 2: PermuteRows((ushort*)from, (ushort*)to, plan); break;
            case 4: PermuteRows((uint*)from, (uint*)to, plan); break;
            case 8: PermuteRows((ulong*)from, (ulong*)to, plan); break;
            default: throw new ArgumentException($"permute of {xt.DType} elements is not supported");
        }
    }

    /// <summary>One task per row of y (its last axis); each row reads x with that axis's stride.</summary>
    static unsafe void PermuteRows<T>(T* from, T* to, PermutePlan plan) where T : unmanaged
    {
        int rank = plan.OutShape.Length, rowLength = plan.OutShape[rank - 1];
        long rows = plan.Count / Math.Max(rowLength, 1), inner = plan.SourceStrides[rank - 1];
        nint source = (nint)from, destination = (nint)to;
        Action<long> row = r =>
        {
            long offset = 0, rest = r;
            for (int a = rank - 2; a >= 0; a--)
            {
                offset += rest % plan.OutShape[a] * plan.SourceStrides[a];
                rest /= plan.OutShape[a];
            }
            T* s = (T*)source + offset; T* d = (T*)destination + r * rowLength;
            for (int j = 0; j < rowLength; j++) d[j] = s[j * inner];
        };
        if (plan.Count < ParallelThreshold) for (long r = 0; r < rows; r++) row(r);
        else Parallel.For(0L, rows, row);
    }
}
