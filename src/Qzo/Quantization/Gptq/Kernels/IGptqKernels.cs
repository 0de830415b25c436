using Qzo.Compute;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// GPTQ on one backend (<see cref="GptqKernels.For"/>): the dequantization of every forward pass, and the steps of the
/// GPTQ solver that are not dense linear algebra (docs/formats.md; driven by <see cref="GptqSolver"/>, which documents
/// the algorithm). In the solver's steps, columns are in processing order: column j of the working matrices is input
/// inputs[j] (I32 [n]); dead inputs (dead[i] ≠ 0, I32 [n]) had no calibration signal.
/// </summary>
internal interface IGptqKernels
{
    /// <summary>
    /// weight[i, o] = (scales[g, o] + p.Scale · z(p.Seed, scaleTensorIndex, g·out + o)) · (q[i, o] − zero[g, o]),
    /// g = gIdx[i]: GPTQ dequantization with the Q-SPSA perturbation folded in (docs/algorithm.md).
    /// qweight, qzeros, gIdx are I32 as stored; scales are the fp32 masters; weight is [in, out] in the backend's ComputeType
    /// (the layout of qweight, so a GPU writes it coalesced), ready for <see cref="IBackend.MatMul"/>.
    /// </summary>
    void Dequantize(DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                    GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor weight);

    /// <summary>
    /// y[rows, out] = x[rows, in]·W (plus y's old values when <paramref name="accumulate"/>), W as <see cref="Dequantize"/> forms
    /// it under <paramref name="p"/>; x and y in the backend's ComputeType. The CPU dequantizes into
    /// <paramref name="weightScratch"/> and multiplies; the GPU does the same or, where QZO_GPTQ_FUSED picks it
    /// (<see cref="GptqFusedChoice"/>), runs the fused kernel, which forms the same bf16 weights in registers and leaves
    /// <paramref name="weightScratch"/> alone: the two agree up to the order of the fp32 sums.
    /// </summary>
    void Linear(DeviceTensor x, int rows, DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor weightScratch, DeviceTensor y, bool accumulate);

    /// <summary>
    /// --compute fp8 (IBackend.Fp8): y[rows, out] (+)= the fp8 product of x and W under <paramref name="p"/> (+ bias, only
    /// without accumulate), W's e4m3 codes
    /// formed straight from the packed words (the same codes as converting <see cref="Dequantize"/>'s bf16 output, bit for
    /// bit, without writing it). False (nothing done) where this backend has no such kernel for the layout or declines the
    /// shape; the caller then dequantizes and multiplies through <see cref="IBackend.TryMatMulFp8"/>. <paramref name="codeSpan"/>:
    /// the linear's frozen helper for the weight's amax (the largest |q − zero| of each group and output), which the backend
    /// makes on first use and the linear owns and disposes.
    /// </summary>
    bool TryLinearFp8(DeviceTensor x, int rows, DeviceTensor qweight, DeviceTensor qzeros, DeviceTensor scales, DeviceTensor gIdx,
                      GptqKernelShape shape, Perturbation p, int scaleTensorIndex, DeviceTensor? bias, DeviceTensor y,
                      bool accumulate, ref DeviceTensor? codeSpan);

    /// <summary>
    /// h[i, j] = S[inputs[i], inputs[j]] + (i = j ? damp : 0) (F64 [n, n]) with S = ½(sum + sumᵀ) of the F32 Gram
    /// matrix, in double, and S[d, d] = 1 for a dead input d.
    /// </summary>
    void Hessian(DeviceTensor sum, DeviceTensor inputs, DeviceTensor dead, int n, double damp, DeviceTensor h);

    /// <summary>w[r, j] = weight[r, inputs[j]], or 0 for a dead input (weight F32 [rows, n], w F64 [rows, n]).</summary>
    void Weights(DeviceTensor weight, DeviceTensor inputs, DeviceTensor dead, int rows, int n, DeviceTensor w);

    /// <summary>
    /// The grid of every group k (inputs k·GroupSize … k·GroupSize + GroupSize − 1, in input order) of every output r
    /// from weight (F32 [rows, n], dead inputs read as 0 when <paramref name="zeroDead"/>), as AutoGPTQ's find_params
    /// finds it in float32: scales[k, r] (F32, holding the fp16 value a checkpoint stores) and zeros[k, r] (I32).
    /// A scale beyond fp16 sets status[0] = min(status[0], k·rows + r).
    /// </summary>
    void Grids(DeviceTensor weight, DeviceTensor dead, GptqStepShape shape, bool zeroDead, DeviceTensor scales, DeviceTensor zeros,
               DeviceTensor status);

    /// <summary>
    /// GPTQ's column loop over columns start … start + width − 1 of w (F64 [rows, n]), every output row at once: for
    /// each column j, when <paramref name="findGrids"/> and j % GroupSize = 0, group j / GroupSize's grid from w[r, j …
    /// j + GroupSize − 1] as it stands (the earlier blocks' updates in, this block's not: AutoGPTQ's W, not W1); then
    /// q = clamp(round(x / scale) + zero, 0, 2^bits − 1) with the grid of group groupOf[j] and x the column's value after
    /// the updates of the block's earlier columns; codes[inputs[j], r] = q (I32 [n, rows]); e = (x − scale·(q − zero)) / u[j, j];
    /// the block's later columns get x −= e·u[j, ·] (u F64 [n, n]). err[c, r] (F64 [width, rows]) ends holding e of
    /// column start + c, for the lazy update of the later blocks. Scales and zeros as in <see cref="Grids"/>.
    /// </summary>
    void Block(DeviceTensor w, DeviceTensor u, DeviceTensor inputs, DeviceTensor groupOf, GptqStepShape shape, int start, int width,
               bool findGrids, DeviceTensor scales, DeviceTensor zeros, DeviceTensor codes, DeviceTensor err, DeviceTensor status);
}
