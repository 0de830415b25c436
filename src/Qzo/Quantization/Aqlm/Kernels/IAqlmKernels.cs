using Qzo.Compute;

namespace Qzo.Quantization.Aqlm.Kernels;

/// <summary>AQLM on one backend (<see cref="AqlmKernels.For"/>).</summary>
internal interface IAqlmKernels
{
    /// <summary>
    /// AQLM dequantization with the perturbation folded into the per-output-group scales:
    /// weight[o, i] = (scales[r] + p.Scale·z(p.Seed, scaleTensorIndex, r)) · Σ_c codebooks[c, codes[r, i / I, c], o % O, i % I],
    /// r = o / O, written [out, in] row-major in the backend's ComputeType (for <see cref="IBackend.MatMulTransposedB"/>).
    /// codes: the stored signed int8/int16 bytes [out/O, in/I, M] (any integer dtype; read modulo 2^bits);
    /// codebooks: F16 [M, 2^bits, O, I]; scales: the fp32 master [out/O].
    /// </summary>
    void Dequantize(DeviceTensor codes, DeviceTensor codebooks, DeviceTensor scales, AqlmKernelShape shape,
                    Perturbation p, int scaleTensorIndex, DeviceTensor weight);
}
