using System.Runtime.InteropServices;

namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// The few cuBLAS entry points Qzo uses. Constants are the values of cublas_api.h / library_types.h
/// (CUDA 13): CUDA_R_32F 0, CUDA_R_16BF 14, CUBLAS_COMPUTE_32F 68, CUBLAS_OP_N 0, CUBLAS_OP_T 1,
/// CUBLAS_GEMM_DEFAULT −1, CUBLAS_SIDE_LEFT 0 / RIGHT 1, CUBLAS_FILL_MODE_LOWER 0 / UPPER 1, CUBLAS_DIAG_NON_UNIT 0;
/// the device tests check GemmEx, GemmStridedBatchedEx, Dgemm and Dtrsm against the CPU on the GPU machine.
/// </summary>
static unsafe partial class Cublas
{
    public const int R32F = 0, R16BF = 14, Compute32F = 68, OpN = 0, OpT = 1, GemmDefault = -1;
    public const int StatusNotSupported = 15; // CUBLAS_STATUS_NOT_SUPPORTED
    /// <summary>cublasMath_t: the default, and the flag that keeps split-K reductions in the compute type (fp32) rather than
    /// the output type (bf16), which would round every partial sum once more.</summary>
    public const int DefaultMath = 0, DisallowReducedPrecisionReduction = 16;
    public const int SideLeft = 0, SideRight = 1, FillLower = 0, FillUpper = 1, DiagNonUnit = 0;

    [LibraryImport("cublas")] public static partial int cublasCreate_v2(out IntPtr handle);
    [LibraryImport("cublas")] public static partial int cublasDestroy_v2(IntPtr handle);
    [LibraryImport("cublas")] public static partial int cublasGetVersion_v2(IntPtr handle, out int version);
    [LibraryImport("cublas")] public static partial int cublasSetStream_v2(IntPtr handle, IntPtr stream);
    [LibraryImport("cublas")] public static partial int cublasSetMathMode(IntPtr handle, int mode);
    [LibraryImport("cublas")]
    public static partial int cublasGemmEx(IntPtr handle, int transa, int transb, int m, int n, int k, float* alpha,
        IntPtr a, int aType, int lda, IntPtr b, int bType, int ldb, float* beta, IntPtr c, int cType, int ldc, int computeType, int algo);

    [LibraryImport("cublas")]
    public static partial int cublasGemmStridedBatchedEx(IntPtr handle, int transa, int transb, int m, int n, int k, float* alpha,
        IntPtr a, int aType, int lda, long strideA, IntPtr b, int bType, int ldb, long strideB, float* beta, IntPtr c, int cType, int ldc,
        long strideC, int batchCount, int computeType, int algo);

    [LibraryImport("cublas")]
    public static partial int cublasDgemm_v2(IntPtr handle, int transa, int transb, int m, int n, int k, double* alpha,
        IntPtr a, int lda, IntPtr b, int ldb, double* beta, IntPtr c, int ldc);
    [LibraryImport("cublas")]
    public static partial int cublasDtrsm_v2(IntPtr handle, int side, int uplo, int trans, int diag, int m, int n, double* alpha,
        IntPtr a, int lda, IntPtr b, int ldb);

    public static void Check(int status, string what)
    {
        if (status != 0) throw new InvalidOperationException($"cuBLAS {what} failed with status {status}");
    }
}

/// <summary>The driver's view of device memory, printed beside our own tracking.</summary>
static partial class CudaDriver
{
    [LibraryImport("cuda", EntryPoint = "cuMemGetInfo_v2")] public static partial int MemGetInfo(out nuint free, out nuint total);
}
