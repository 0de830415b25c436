using System.Runtime.InteropServices;

namespace Qzo.Compute.Cuda.Native;

/// <summary>
/// The cuBLASLt entry points Qzo uses (cublasLt.h, CUDA 12 and 13): a matmul descriptor with an epilogue and fp8 scale
/// pointers, column-major layouts, the heuristic's first algorithm, the matmul.
/// </summary>
static unsafe partial class CublasLt
{
    public const int DescTransA = 3, DescTransB = 4, DescEpilogue = 7, DescBiasPointer = 8;
    public const int DescAScalePointer = 17, DescBScalePointer = 18, DescBiasDataType = 26;
    public const int EpilogueDefault = 1, EpilogueBias = 4;
    public const int R8FE4M3 = 28; // cudaDataType_t CUDA_R_8F_E4M3
    public const int PreferenceMaxWorkspaceBytes = 1;

    /// <summary>cublasLtMatmulHeuristicResult_t: the algorithm's 64 opaque bytes, then its workspace, state and waves.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct HeuristicResult
    {
        public fixed ulong Algorithm[8];
        public nuint WorkspaceSize;
        public int State;
        public float Waves;
        public fixed int Reserved[4];
    }

    [LibraryImport("cublasLt")] public static partial int cublasLtCreate(out IntPtr handle);
    [LibraryImport("cublasLt")] public static partial int cublasLtDestroy(IntPtr handle);
    [LibraryImport("cublasLt")] public static partial int cublasLtMatmulDescCreate(out IntPtr desc, int computeType, int scaleType);
    [LibraryImport("cublasLt")] public static partial int cublasLtMatmulDescDestroy(IntPtr desc);
    [LibraryImport("cublasLt")]
    public static partial int cublasLtMatmulDescSetAttribute(IntPtr desc, int attribute, void* value, nuint size);
    [LibraryImport("cublasLt")]
    public static partial int cublasLtMatrixLayoutCreate(out IntPtr layout, int type, ulong rows, ulong columns, long ld);
    [LibraryImport("cublasLt")] public static partial int cublasLtMatrixLayoutDestroy(IntPtr layout);
    [LibraryImport("cublasLt")] public static partial int cublasLtMatmulPreferenceCreate(out IntPtr preference);
    [LibraryImport("cublasLt")] public static partial int cublasLtMatmulPreferenceDestroy(IntPtr preference);
    [LibraryImport("cublasLt")]
    public static partial int cublasLtMatmulPreferenceSetAttribute(IntPtr preference, int attribute, void* value, nuint size);
    [LibraryImport("cublasLt")]
    public static partial int cublasLtMatmulAlgoGetHeuristic(IntPtr handle, IntPtr desc, IntPtr a, IntPtr b, IntPtr c, IntPtr d,
                                                              IntPtr preference, int requested, HeuristicResult* results, out int returned);
    [LibraryImport("cublasLt")]
    public static partial int cublasLtMatmul(IntPtr handle, IntPtr desc, float* alpha, IntPtr a, IntPtr aLayout, IntPtr b, IntPtr bLayout,
                                             float* beta, IntPtr c, IntPtr cLayout, IntPtr d, IntPtr dLayout, void* algorithm,
                                             IntPtr workspace, nuint workspaceSize, IntPtr stream);
}
