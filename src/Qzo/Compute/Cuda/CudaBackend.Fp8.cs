using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Qzo.Compute.Cuda.Native;
using Qzo.Compute.Cuda.Nvrtc;
using Qzo.Numerics;

namespace Qzo.Compute.Cuda;

/// <summary>
/// --compute fp8 (IBackend.Fp8, docs/kernels.md §9): per product, the amax of the dequantized weight and of the input
/// (streaming_kernels.cu's FP8 section; GPTQ forms its codes from its packed words instead), both converted to e4m3
/// codes (the weight transposed when stored [k, n]) with their scales beside them, then one cuBLASLt fp8 product into
/// the bf16 output. Loaded on first use; a GPU without fp8 tensor cores is a clear error.
/// </summary>
internal sealed partial class CudaBackend
{
    const long Fp8WorkspaceBytes = 32L << 20;
    LinearPrecision _linearPrecision;
    Fp8Kernels? _fp8Kernels;
    CublasLtFp8Gemm? _fp8Gemm;
    IlgpuTensor? _fp8Workspace, _fp8Weight, _fp8Input, _fp8Words;
    readonly HashSet<string> _fp8Declined = [];

    public LinearPrecision QuantizedLinearPrecision
    {
        get => _linearPrecision;
        set
        {
            if (value == LinearPrecision.Fp8) EnsureFp8();
            _linearPrecision = value;
        }
    }

    public IReadOnlyCollection<string> Fp8DeclinedShapes => _fp8Declined;

    /// <summary>The fp8 operand kernels (loaded on first use; a clear error where this GPU has no fp8 tensor cores).</summary>
    internal Fp8Kernels Fp8Kernels
    {
        get { EnsureFp8(); return _fp8Kernels!; }
    }

    void EnsureFp8()
    {
        if (_fp8Gemm is not null) return;
        if (_accelerator is not CudaAccelerator || _portableKernels)
            throw new QzoException($"--compute fp8 needs a CUDA GPU with NVRTC and cuBLASLt (this backend: {Name})");
        _fp8Kernels = Fp8Kernels.TryCreate(_deviceOrdinal, _streaming, out string reason)
            ?? throw new QzoException($"--compute fp8: {reason}");
        _fp8Workspace = (IlgpuTensor)Allocate(DType.U8, Fp8WorkspaceBytes, MemoryCategory.Workspace);
        _fp8Words = (IlgpuTensor)Allocate(DType.U32, 3 * Fp8SlotWords, MemoryCategory.Workspace);
        var (_, _, scaleW, scaleX) = Fp8Slots();
        _fp8Gemm = CublasLtFp8Gemm.Create(_stream, _fp8Workspace.Pointer, Fp8WorkspaceBytes, xScale: scaleX, wScale: scaleW);
    }

    public bool TryMatMulFp8(DeviceTensor x, DeviceTensor weight, bool weightInputMajor, DeviceTensor? bias, DeviceTensor y, int m, int n,
                             int k, bool accumulate)
    {
        IntPtr w = Require(weight, DType.BF16).Pointer;
        return TryMatMulFp8(x, bias, y, m, n, k, accumulate, (kernels, codes, amax, scale) =>
        {
            kernels.Amax(w, (long)n * k, amax);
            if (weightInputMajor) kernels.QuantizeTransposed(w, k, n, amax, codes, scale);
            else kernels.Quantize(w, (long)n * k, amax, codes, scale);
        });
    }

    /// <summary>
    /// The fp8 product whose weight codes [n, k], amax and scale <paramref name="writeWeight"/> writes (its arguments: the kernels,
    /// the codes, the amax slot, zeroed, and the scale slot): a format's kernels that form the codes from their own layout.
    /// </summary>
    internal bool TryMatMulFp8(DeviceTensor x, DeviceTensor? bias, DeviceTensor y, int m, int n, int k, bool accumulate,
                               Action<Fp8Kernels, IntPtr, IntPtr, IntPtr> writeWeight)
    {
        if (bias is not null && accumulate) throw new ArgumentException("a bias only without accumulate", nameof(bias));
        EnsureFp8();
        var (kernels, gemm) = (_fp8Kernels!, _fp8Gemm!);
        Require(x, DType.BF16); Require(y, DType.BF16);
        if (bias is not null) Require(bias, DType.BF16);
        // e4m3 rows of 16-byte multiples and 8-value conversion steps; cuBLASLt decides the rest.
        if (m == 0 || k % 16 != 0 || n % 8 != 0 || !gemm.Supports(m, n, k, bias is not null))
        {
            _fp8Declined.Add($"{m}×{n}×{k}");
            return false;
        }
        var codesW = Grow(ref _fp8Weight, (long)n * k);
        var codesX = Grow(ref _fp8Input, (long)m * k);
        var (amaxW, amaxX, scaleW, scaleX) = Fp8Slots();
        Timed("fp8 quantize", () =>
        {
            kernels.Zero(amaxW, 2);
            writeWeight(kernels, codesW, amaxW, scaleW);
            kernels.Amax(Ilgpu(x).Pointer, (long)m * k, amaxX);
            kernels.Quantize(Ilgpu(x).Pointer, (long)m * k, amaxX, codesX, scaleX);
        });
        Timed("gemm fp8", () => gemm.Multiply(codesX, codesW, bias is null ? 0 : Ilgpu(bias).Pointer, Ilgpu(y).Pointer,
                                              m, n, k, accumulate));
        return true;
    }

    /// <summary>The last fp8 product's operands as the tensor cores read them: the weight's codes [n, k], the input's [m, k], the
    /// amax bits and scales (weight, input). For the device checks.</summary>
    internal (byte[] Weight, byte[] Input, uint[] Words) LastFp8Operands(int m, int n, int k)
    {
        var weight = new byte[(long)n * k]; var input = new byte[(long)m * k]; var all = new uint[3 * Fp8SlotWords];
        _fp8Weight!.View<byte>().SubView(0, weight.Length).CopyToCPU(weight);
        _fp8Input!.View<byte>().SubView(0, input.Length).CopyToCPU(input);
        _fp8Words!.View<uint>().CopyToCPU(all);
        return (weight, input, [all[0], all[1], all[Fp8SlotWords], all[2 * Fp8SlotWords]]);
    }

    /// <summary>
    /// 32-bit words between the slots of _fp8Words (256 bytes). With the scales at bytes 8 and 12 of one buffer, every
    /// fp8 call on the H100 (CUDA 13) was refused at the call (NOT_SUPPORTED) after the heuristic had offered algorithms;
    /// the call is the first to see the pointers, so each scale now sits 256-byte aligned, as every other operand does.
    /// </summary>
    const int Fp8SlotWords = 64;

    /// <summary>The amax of the weight and of the input (adjacent, zeroed together), and their scales, each 256-byte aligned.</summary>
    (IntPtr AmaxW, IntPtr AmaxX, IntPtr ScaleW, IntPtr ScaleX) Fp8Slots()
    {
        IntPtr words = _fp8Words!.Pointer;
        return (words, words + 4, words + 4 * Fp8SlotWords, words + 8 * Fp8SlotWords);
    }

    IntPtr Grow(ref IlgpuTensor? buffer, long bytes)
    {
        if (buffer is null || buffer.Length < bytes)
        {
            buffer?.Dispose();
            buffer = (IlgpuTensor)Allocate(DType.U8, bytes, MemoryCategory.Workspace);
        }
        return buffer.Pointer;
    }

    void DisposeFp8()
    {
        _fp8Gemm?.Dispose();
        _fp8Workspace?.Dispose();
        _fp8Weight?.Dispose();
        _fp8Input?.Dispose();
        _fp8Words?.Dispose();
    }
}
