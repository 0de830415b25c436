using ILGPU;
using ILGPU.Runtime;
using Qzo.Compute;
using Qzo.Compute.Cuda;
using Qzo.Compute.Cuda.Nvrtc;
using Qzo.Numerics;
using static Qzo.Compute.Cuda.CudaBackend;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// GPTQ on the GPU backend: the NVRTC streaming kernel where it applies (<see cref="GptqStreamingKernel"/>), else the
/// ILGPU kernels (<see cref="GptqDequantKernel"/>), compiled on this backend's accelerator on first use. A linear's product
/// is dequantize + cuBLAS, or the fused kernel (<see cref="GptqFusedKernel"/>) where <see cref="Choice"/> picks it.
/// </summary>
sealed partial class CudaGptqKernels(CudaBackend backend) : IGptqKernels
{
    readonly GptqStepKernelSet _steps = new(backend.Accelerator);
    readonly GptqDequantKernelSet _kernels = new(backend.Accelerator);
    GptqFusedKernel? _fused;
    string? _fusedUnavailable;

    /// <summary>QZO_GPTQ_FUSED's choice; the device checks and the kernel table set it to compare the products.</summary>
    internal GptqFusedChoice Choice { get; set; } = GptqFusedChoice.FromEnvironment();

    /// <summary>The fused kernel (compiled on first use), or null where it is unavailable (<see cref="FusedUnavailable"/>).</summary>
    internal GptqFusedKernel? Fused
    {
        get
        {
            if (_fused is not null || _fusedUnavailable is not null) return _fused;
            if (!backend.IsCuda) _fusedUnavailable = "not a CUDA device";
            else
            {
                _fused = GptqFusedKernel.TryCreate(backend.DeviceOrdinal, backend.Stream, out string reason);
                if (_fused is null)
                {
                    _fusedUnavailable = reason;
                    Console.Error.WriteLine($"warning: GPTQ linears stay on dequantize + cuBLAS (the fused kernel: {reason})");
                }
            }
            return _fused;
        }
    }

    /// <summary>Why <see cref="Fused"/> is null, once it was asked for.</summary>
    internal string? FusedUnavailable => _fusedUnavailable;

    /// <summary>
    /// The product <see cref="Linear"/> takes for these arguments: "dequantize+cublas", or "fused-TILE" (with " (any g_idx)" for
    /// the entry that reads g_idx per input).
    /// </summary>
    internal string ProductFor(DeviceTensor x, int rows, GptqKernelShape shape, DeviceTensor y) =>
        FusedPlan(x, rows, shape, y) is { } plan
            ? $"fused-{plan.Tile.Name}{(plan.SequentialGroups ? "" : " (any g_idx)")}" : GptqFusedChoice.DequantizeGemm;

    (GptqFusedKernel Kernel, GptqFusedKernel.Tile Tile, bool SequentialGroups)? FusedPlan(DeviceTensor x, int rows, GptqKernelShape shape,
                                                                                           DeviceTensor y)
    {
        bool sequential = GptqFusedKernel.SequentialGroups(shape);
        if (Choice.TileFor(rows, shape.OutFeatures, shape.InFeatures, sequential) is not { } tile) return null;
        if (GptqFusedKernel.Unsupported(shape) is not null || x.DType != DType.BF16 || y.DType != DType.BF16) return null;
        if (!Compute.Cuda.Nvrtc.StreamingKernels.Aligned(Ilgpu(x).Pointer, Ilgpu(y).Pointer)) return null;
        return Fused is { } kernel ? (kernel, tile, sequential) : null;
    }

    public void Linear(DeviceTensor x, int rows, DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                       GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor weightScratch, DeviceTensor y,
                       bool accumulate)
    {
        if (FusedPlan(x, rows, shape, y) is { } plan)
        {
            Timed("gptq-fused", () =>
            {
                var effectiveScales = backend.EffectiveScales(scales, p, scaleTensorIndex, (long)shape.Groups * shape.OutFeatures);
                plan.Kernel.Launch(plan.Tile, plan.SequentialGroups, Ilgpu(x).Pointer, Ilgpu(qweight).Pointer, Ilgpu(qzeros).Pointer,
                                   effectiveScales.LoadEffectiveAddressAsPtr(), Ilgpu(gIdx).Pointer, Ilgpu(y).Pointer, rows,
                                   shape.OutFeatures, shape.InFeatures, shape.SequentialGroupSize, shape.ZerosOffsetByOne, accumulate);
            });
            return;
        }
        Dequantize(qweight, qzeros, scales, gIdx, shape, p, scaleTensorIndex, weightScratch);
        backend.MatMul(x, weightScratch, y, rows, shape.OutFeatures, shape.InFeatures, accumulate);
    }

    public bool TryLinearFp8(DeviceTensor x, int rows, DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                             GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor? bias, DeviceTensor y,
                             bool accumulate, ref DeviceTensor? codeSpan)
    {
        if (backend.Streaming is null || !Fp8Kernels.SupportsGptq(shape.Bits, shape.InFeatures, shape.OutFeatures)) return false;
        long scaleCount = (long)shape.Groups * shape.OutFeatures;
        codeSpan ??= CodeSpan(qweight, qzeros, gIdx, shape);
        var span = Ilgpu(codeSpan).Pointer;
        return backend.TryMatMulFp8(x, bias, y, rows, shape.OutFeatures, shape.InFeatures, accumulate, (kernels, codes, amax, scale) =>
        {
            var effectiveScales = backend.EffectiveScales(scales, p, scaleTensorIndex, scaleCount);
            kernels.QuantizeGptq(Ilgpu(qweight).Pointer, Ilgpu(qzeros).Pointer, effectiveScales.LoadEffectiveAddressAsPtr(),
                                 Ilgpu(gIdx).Pointer, span, scaleCount, shape.InFeatures, shape.OutFeatures, shape.Bits,
                                 shape.ZerosOffsetByOne, amax, codes, scale);
        });
    }

    /// <summary>The largest |q − zero| of each group and output (u32 [groups, out]): frozen, made once per linear.</summary>
    DeviceTensor CodeSpan(DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor gIdx, GptqKernelShape shape)
    {
        long count = (long)shape.Groups * shape.OutFeatures;
        var span = backend.Allocate(DType.U32, count, MemoryCategory.QuantizedWeights);
        backend.Fp8Kernels.Zero(Ilgpu(span).Pointer, checked((int)count));
        backend.Fp8Kernels.GptqCodeSpan(Ilgpu(qweight).Pointer, Ilgpu(qzeros).Pointer, Ilgpu(gIdx).Pointer, shape.InFeatures,
                                        shape.OutFeatures, shape.Bits, shape.ZerosOffsetByOne, Ilgpu(span).Pointer);
        return span;
    }

    public void Dequantize(DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                           GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor weight)
    {
        Timed("dequantize", () =>
        {
            long scaleCount = (long)shape.Groups * shape.OutFeatures;
            var effectiveScales = backend.EffectiveScales(scales, p, scaleTensorIndex, scaleCount);
            if (backend.Streaming is { } streaming && GptqStreamingKernel.Supports(shape.Bits, shape.OutFeatures))
            {
                var scalePointer = effectiveScales.LoadEffectiveAddressAsPtr();
                GptqStreamingKernel.Launch(streaming, Ilgpu(qweight).Pointer, Ilgpu(qzeros).Pointer, scalePointer, Ilgpu(gIdx).Pointer,
                                           Require(weight, DType.BF16).Pointer, shape.InFeatures, shape.OutFeatures, shape.Bits,
                                           shape.ZerosOffsetByOne);
                return;
            }
            var kernelShape = new GptqDequantKernel.Shape(shape.InFeatures, shape.OutFeatures, shape.Bits,
                                                          shape.ZerosOffsetByOne ? 1 : 0);
            if (shape.Bits == 3)
                _kernels.DequantizeGptq(Count((long)shape.InFeatures * shape.OutFeatures), VI(qweight), VI(qzeros), effectiveScales,
                                        VI(gIdx), V16(weight), kernelShape);
            else
                _kernels.DequantizeGptqPairsPerWord(Count((long)shape.InFeatures * shape.Bits / 32 * shape.OutFeatures / 2), VI(qweight),
                                                    VI(qzeros), effectiveScales, VI(gIdx),
                                                    Pairs(weight, (long)shape.InFeatures * shape.OutFeatures), kernelShape);
        });
    }

    /// <summary>With QZO_PROFILE=1, the backend's per-operation timing (<see cref="CudaBackend.Profile"/>).</summary>
    void Timed(string name, Action work) => backend.Timed(name, work);
}
