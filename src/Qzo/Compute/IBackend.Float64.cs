namespace Qzo.Compute;

/// <summary>
/// Calibration statistics in float32 and dense linear algebra in float64, for quantizers that solve for weights on
/// the device (GPTQ). Matrices are row-major.
/// </summary>
public partial interface IBackend
{
    /// <summary>
    /// sum[n, n] += xᵀ·x for x [rows, n] in <see cref="ComputeType"/>, with float32 products and accumulation (no TF32):
    /// the Gram matrix of a linear's inputs, GPTQ's Hessian. sum: F32.
    /// </summary>
    void AccumulateGram(DeviceTensor x, int rows, int n, DeviceTensor sum);

    /// <summary>Σ_r d[r]·h·d[r]ᵀ for d F32 [rows, n] and h F32 [n, n]: products in float32, the sum over rows in double.</summary>
    double QuadraticForm(DeviceTensor h, DeviceTensor d, int rows, int n);

    /// <summary>The index of the first non-finite value of t[0..count) (F32), or −1.</summary>
    long FirstNonFinite(DeviceTensor t, long count);

    /// <summary>
    /// destination[r, c] = source[r, c] for r &lt; rows, c &lt; columns: a bit-exact strided copy between two tensors of
    /// one dtype, any dtype (F64 in GPTQ, the compute type or I32 to concatenate and split token sequences).
    /// </summary>
    void CopyMatrix(MatrixView source, MatrixView destination, int rows, int columns);

    /// <summary>c = alpha·op(a)·op(b) + beta·c in float64, op(a) [m, k], op(b) [k, n], op = transpose when asked. All F64.</summary>
    void MatMulF64(MatrixView a, bool transposeA, MatrixView b, bool transposeB, MatrixView c, int m, int n, int k, double alpha,
        double beta);

    /// <summary>
    /// a (F64 [n, n], symmetric; only its lower triangle is read) becomes its lower Cholesky factor L (a = L·Lᵀ) with
    /// the strict upper triangle zero; false when a is not numerically positive definite (a is then undefined).
    /// </summary>
    bool CholeskyLower(DeviceTensor a, int n);

    /// <summary>
    /// inverse = l⁻¹ for a lower-triangular l (F64 [n, n]; its strict upper triangle is not read); inverse is lower triangular.
    /// </summary>
    void InvertLower(DeviceTensor l, int n, DeviceTensor inverse);

    /// <summary>t[i] ↔ t[count − 1 − i] (F64): on a square matrix, J·t·J with J the index reversal.</summary>
    void ReverseInPlace(DeviceTensor t, long count);
}
