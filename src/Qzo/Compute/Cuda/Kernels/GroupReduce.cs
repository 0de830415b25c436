using System.Runtime.CompilerServices;
using ILGPU;

namespace Qzo.Compute.Cuda.Kernels;

/// <summary>Sum and max over one thread group (a multiple of the warp size), broadcast to every thread.</summary>
static class GroupReduce
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float value, ArrayView<float> scratch)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value += Warp.ShuffleDown(value, offset);
        if (Warp.IsFirstLane) scratch[Warp.WarpIdx] = value;
        Group.Barrier();
        if (Warp.WarpIdx == 0)
        {
            value = Warp.LaneIdx < Group.DimX / Warp.WarpSize ? scratch[Warp.LaneIdx] : 0f;
            for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value += Warp.ShuffleDown(value, offset);
            if (Warp.IsFirstLane) scratch[32] = value;
        }
        Group.Barrier();
        float result = scratch[32];
        Group.Barrier();
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float value, ArrayView<float> scratch)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value = MathF.Max(value, Warp.ShuffleDown(value, offset));
        if (Warp.IsFirstLane) scratch[Warp.WarpIdx] = value;
        Group.Barrier();
        if (Warp.WarpIdx == 0)
        {
            value = Warp.LaneIdx < Group.DimX / Warp.WarpSize ? scratch[Warp.LaneIdx] : float.NegativeInfinity;
            for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value = MathF.Max(value, Warp.ShuffleDown(value, offset));
            if (Warp.IsFirstLane) scratch[32] = value;
        }
        Group.Barrier();
        float result = scratch[32];
        Group.Barrier();
        return result;
    }
}
