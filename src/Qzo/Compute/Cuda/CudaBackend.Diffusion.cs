using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute.Cuda.Kernels;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>
/// The image-model operations of <see cref="IBackend"/>'s Diffusion part as ILGPU kernels (Conv2d: CudaBackend.Conv2d;
/// Attention: CudaBackend.FullAttention).
/// </summary>
internal sealed partial class CudaBackend
{
    DiffusionKernelSet? _diffusionKernels;
    IlgpuTensor? _groupStatistics;

    DiffusionKernelSet Diffusion => _diffusionKernels ??= new DiffusionKernelSet(_accelerator);

    public void GroupNorm(DeviceTensor x, DeviceTensor weight, DeviceTensor bias, DeviceTensor y, int batch, int channels, int spatial,
                          int groups, float eps) => Timed("groupnorm", () =>
    {
        if (groups <= 0 || channels % groups != 0)
            throw new ArgumentException($"{channels} channels do not split into {groups} groups");
        long count = (long)batch * channels * spatial;
        var xv = Bf16Sized(x, count, nameof(x)); var yv = Bf16Sized(y, count, nameof(y));
        var wv = Bf16Sized(weight, channels, nameof(weight)); var bv = Bf16Sized(bias, channels, nameof(bias));
        if (count == 0) return;
        int perGroup = channels / groups;
        var stats = Grown(ref _groupStatistics, DType.F32, 2L * batch * groups).View<float>();
        Diffusion.GroupStatistics(new KernelConfig(batch * groups, IsCuda ? 1024 : 32), xv, stats, (long)perGroup * spatial, eps);
        Diffusion.GroupApply(Count(count), xv, stats, wv, bv, yv, channels, spatial, perGroup);
    });

    public void UpsampleNearest2x(DeviceTensor x, DeviceTensor y, int planes, int height, int width) => Timed("upsample", () =>
    {
        long count = (long)planes * height * width;
        var xv = Bf16Sized(x, count, nameof(x)); var yv = Bf16Sized(y, 4 * count, nameof(y));
        if (count > 0) Diffusion.Upsample(Count(4 * count), xv, yv, height, width);
    });

    public void ActivationInPlace(DeviceTensor x, Activation activation, long count) => Timed("activation", () =>
    {
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), $"unknown activation {activation}");
        var xv = Bf16Sized(x, count, nameof(x));
        if (count == 0) return;
        if (_streaming is not null && _streaming.TryActivation(Ilgpu(x).Pointer, activation, count)) return;
        Diffusion.Activate(Count(count), xv, (int)activation);
    });

    public void Modulate(DeviceTensor x, MatrixView shift, MatrixView scale, DeviceTensor y, int batch, int tokens, int dim) =>
        Timed("modulate", () =>
    {
        long count = (long)batch * tokens * dim;
        var xv = Bf16Sized(x, count, nameof(x)); var yv = Bf16Sized(y, count, nameof(y));
        var sh = Bf16Rows(shift, batch, dim, nameof(shift)); var sc = Bf16Rows(scale, batch, dim, nameof(scale));
        if (count == 0) return;
        if (_streaming is not null && _streaming.TryModulate(Ilgpu(x).Pointer, Ilgpu(shift.Tensor).Pointer, shift.Offset, shift.Stride,
                Ilgpu(scale.Tensor).Pointer, scale.Offset, scale.Stride, Ilgpu(y).Pointer, batch, tokens, dim)) return;
        Diffusion.Modulate(Count(count), xv, sh, sc, yv,
            new DiffusionElementwiseKernels.Rows(tokens, dim, shift.Offset, shift.Stride, scale.Offset, scale.Stride));
    });

    public void GatedAddInPlace(DeviceTensor x, MatrixView gate, DeviceTensor y, int batch, int tokens, int dim) =>
        Timed("gated-add", () =>
    {
        long count = (long)batch * tokens * dim;
        var xv = Bf16Sized(x, count, nameof(x)); var yv = Bf16Sized(y, count, nameof(y));
        var gv = Bf16Rows(gate, batch, dim, nameof(gate));
        if (count == 0) return;
        if (_streaming is not null && _streaming.TryGatedAdd(Ilgpu(x).Pointer, Ilgpu(gate.Tensor).Pointer, gate.Offset, gate.Stride,
                Ilgpu(y).Pointer, batch, tokens, dim)) return;
        Diffusion.GatedAdd(Count(count), xv, gv, yv, new DiffusionElementwiseKernels.Rows(tokens, dim, gate.Offset, gate.Stride, 0, 0));
    });

    public void Permute(DeviceTensor x, DeviceTensor y, int[] shape, int[] order) => Timed("permute", () =>
    {
        var plan = PermutePlan.Of(shape, order);
        var xt = Ilgpu(x); var yt = Ilgpu(y);
        if (xt.DType != yt.DType) throw new ArgumentException($"permute from {xt.DType} to {yt.DType}: both must be of one type");
        if (xt.Length < plan.Count || yt.Length < plan.Count)
            throw new ArgumentException($"permute of {plan.Count} elements: x has {xt.Length}, y has {yt.Length}");
        if (plan.Count == 0) return;
        int pad = 6 - shape.Length;
        int D(int a) => a < pad ? 1 : plan.OutShape[a - pad];
        long S(int a) => a < pad ? 0 : plan.SourceStrides[a - pad];
        var p = new LayoutKernels.Permutation(D(0), D(1), D(2), D(3), D(4), D(5), S(0), S(1), S(2), S(3), S(4), S(5));
        int n = Count(plan.Count);
        switch (xt.DType.SizeInBytes())
        {
            case 1: Diffusion.Permute<byte>()(n, xt.View<byte>(), yt.View<byte>(), p); break;
            case 2: Diffusion.Permute<ushort>()(n, xt.View<ushort>(), yt.View<ushort>(), p); break;
            case 4: Diffusion.Permute<int>()(n, xt.View<int>(), yt.View<int>(), p); break;
            case 8: Diffusion.Permute<long>()(n, xt.View<long>(), yt.View<long>(), p); break;
            default: throw new ArgumentException($"permute of {xt.DType} elements is not supported");
        }
    });

    public void Axpby(DeviceTensor x, DeviceTensor y, float a, float b, long count) => Timed("axpby", () =>
    {
        if (x.DType != y.DType) throw new ArgumentException($"axpby of {x.DType} and {y.DType}: both must be of one type");
        if (x.Length < count || y.Length < count)
            throw new ArgumentException($"axpby of {count} elements: x has {x.Length}, y has {y.Length}");
        if (count == 0) return;
        if (x.DType == DType.F32) Diffusion.AxpbyF32(Count(count), VF(x), VF(y), a, b);
        else Diffusion.AxpbyBf16(Count(count), V16(x), V16(y), a, b);
    });

    /// <summary>t's bf16 view after checking it holds <paramref name="count"/> elements.</summary>
    static ArrayView<ushort> Bf16Sized(DeviceTensor t, long count, string name)
    {
        var view = V16(t);
        if (t.Length < count) throw new ArgumentException($"{name} has {t.Length} elements, fewer than the {count} its shape needs");
        return view;
    }

    static ArrayView<ushort> Bf16Rows(MatrixView m, int rows, int columns, string name)
    {
        var view = V16(m.Tensor);
        MatrixBounds.Check(m, rows, columns, name);
        return view;
    }

    /// <summary>A scratch tensor kept in <paramref name="field"/>, replaced by a larger one when it is too small.</summary>
    IlgpuTensor Grown(ref IlgpuTensor? field, DType dtype, long count)
    {
        if (field is null || field.DType != dtype || field.Length < count)
        {
            field?.Dispose();
            field = (IlgpuTensor)Allocate(dtype, Math.Max(count, 1), MemoryCategory.Workspace);
        }
        return field;
    }
}
