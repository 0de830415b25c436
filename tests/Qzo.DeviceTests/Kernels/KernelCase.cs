using Qzo.Compute;

namespace Qzo.DeviceTests.Kernels;

/// <summary>
/// Which NVRTC kernel, if any, serves an operation on CUDA besides its ILGPU kernel; AttentionGemm: the full attention's cuBLAS
/// products (head_dim above 128), which QZO_ATTENTION=portable turns off as it does the tensor-core attention.
/// </summary>
enum NvrtcVariant { None, Streaming, Attention, AttentionGemm, BiasEpilogue }

/// <summary>
/// The bound a variant's result must keep from the CPU reference: |actual − expected| ≤ Relative·|expected| + Absolute for
/// every element (0 and 0: equal values). The values are those of the operation's unit case in tests/Qzo.Tests/Compute.
/// </summary>
sealed record Tolerance(double Relative, double Absolute)
{
    public static readonly Tolerance Exact = new(0, 0);

    public override string ToString() => this == Exact ? "exact" : $"{Relative:0.#e0}·|ref|+{Absolute:0.#e0}";
}

/// <summary>An operation, prepared on one backend: run it (again), read its result, and restore its inputs before a timed run.</summary>
sealed record CaseRun(Action Run, Func<double[]>? Result, Action? Reset = null);

/// <summary>
/// One row group of the kernel table: an operation of <see cref="IBackend"/> or of a format's kernels on one shape.
/// <see cref="Setup"/> builds the same inputs on whichever backend it is given (<see cref="CaseInputs"/>).
/// A case without a result (allocation, synchronization) is timed only.
/// <see cref="GpuVariants"/>, where set, are the GPU rows instead of the backend's own choice (and its ILGPU peer); with
/// <see cref="GpuReference"/> the first of them is the reference and the CPU does not run. <see cref="Flops"/> adds a
/// TFLOP/s figure; <see cref="TableEntry"/> turns the label of the fastest passing candidate into a line of a measured table.
/// </summary>
sealed record KernelCase(string Operation, string Shape, Tolerance Tolerance, NvrtcVariant Nvrtc, Func<CaseInputs, CaseRun> Setup,
                         string GpuKernel = "ilgpu")
{
    public IReadOnlyList<GpuVariant>? GpuVariants { get; init; }
    public bool GpuReference { get; init; }
    public double Flops { get; init; }
    public Func<string, string>? TableEntry { get; init; }
}

/// <summary>One GPU row of a case that names its own (<see cref="KernelCase.GpuVariants"/>); Candidate: competes for the table.</summary>
sealed record GpuVariant(string Label, Func<CaseInputs, CaseRun> Setup, bool Candidate = true);
