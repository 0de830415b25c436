using Qzo.Compute;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.DeviceTests.Kernels;

/// <summary>
/// A GPTQ linear's products (IGptqKernels.Linear): dequantize + cuBLAS beside each tile of the fused kernel (gptq_fused.cu).
/// "IGptqKernels.Linear" checks them against the CPU at the harness shape; "GptqFusedLinear" sweeps Llama-2-7B's and 70B's
/// linears at 1 × 256, 16 × 64 and 16 × 256 tokens against dequantize + cuBLAS on the GPU, prints TFLOP/s, and ends with
/// the fastest product per shape as entries of Quantization/Gptq/Kernels/gptq_fused_table.json (QZO_GPTQ_FUSED=auto).
/// </summary>
static class GptqFusedCases
{
    const string DequantizeLabel = "dequant+cublas";
    static readonly Tolerance Gemm = new(1.0 / 128, 1e-4); // the same bf16 operands on both sides (BackendKernelCases' GEMM)
    // The same bf16 weights on both sides: a rounding of the result each, fp32 sums in another order, and cuBLAS may reduce
    // split-K partial sums in bf16.
    static readonly Tolerance AgainstCublas = new(2.0 / 128, 1e-2);

    public static readonly int[] SweptRows = [256, 1024, 4096];
    public static readonly (int N, int K)[] SweptLinears =
        [(4096, 4096), (11008, 4096), (4096, 11008), (8192, 8192), (28672, 8192), (8192, 28672)];

    public static IEnumerable<KernelCase> For(HarnessShape s)
    {
        bool simulated = s == HarnessShape.Tiny;
        int t = s.Tokens, h = s.Hidden, group = Math.Min(128, h);
        foreach (bool actOrder in new[] { false, true })
        {
            // Scales of four significant bits: every weight is exact in bf16, so the CPU's fp32 weights equal the GPU's.
            var layer = new LayerInputs(h, h, group, actOrder, exactScales: true, seed: 50 + (actOrder ? 1 : 0));
            yield return new KernelCase("IGptqKernels.Linear", $"{t}×{h} · {h}×{h}, 4-bit, g{group}{(actOrder ? ", act-order" : "")}", Gemm,
                                        NvrtcVariant.None, c => Linear(c, layer, t, Perturbation.None, null))
            { GpuVariants = simulated ? null : Products(layer, t, Perturbation.None, actOrder), Flops = 2.0 * t * h * h };
        }
        // On ILGPU's CPU accelerator (--simulate, a check of the harness) one small shape, dequantize + the plain GEMM only.
        var p = new Perturbation(7, 1e-3f);
        foreach (int rows in simulated ? [t] : SweptRows)
            foreach (var (n, k) in simulated ? [(h, 2 * h)] : SweptLinears)
            {
                var layer = new LayerInputs(k, n, Math.Min(128, k), actOrder: false, exactScales: false, seed: n + k);
                yield return new KernelCase("GptqFusedLinear", $"{rows}×{k} · {k}×{n}, 4-bit, g128", AgainstCublas, NvrtcVariant.None,
                                            c => Linear(c, layer, rows, p, null))
                {
                    GpuVariants = simulated ? [new GpuVariant(DequantizeLabel, c => Linear(c, layer, rows, p, null))]
                        : [.. Products(layer, rows, p, anyGIdx: false),
                           new GpuVariant("gidx-64x128", c => Linear(c, layer, rows, p, "64x128", anyGIdx: true), Candidate: false)],
                    GpuReference = true,
                    Flops = 2.0 * rows * n * k,
                    TableEntry = label => $"{{\"rows\": {rows}, \"n\": {n}, \"k\": {k}, \"kernel\": \"" +
                                          $"{(label == DequantizeLabel ? GptqFusedChoice.DequantizeGemm : label["fused-".Length..])}\"}}",
                };
            }
    }

    /// <summary>Dequantize + cuBLAS, then every tile (labelled gidx-TILE where the layer's g_idx takes the any-g_idx entry).</summary>
    static List<GpuVariant> Products(LayerInputs layer, int rows, Perturbation p, bool anyGIdx) =>
        [new(DequantizeLabel, c => Linear(c, layer, rows, p, null)),
         .. GptqFusedKernel.Tiles.Select(tile => new GpuVariant($"{(anyGIdx ? "gidx" : "fused")}-{tile.Name}",
                                                               c => Linear(c, layer, rows, p, tile.Name)))];

    /// <summary>
    /// y = x·W through IGptqKernels.Linear on the case's backend, with the fused kernel's <paramref name="tile"/> (null:
    /// dequantize + cuBLAS); fails at setup when the GPU would not take the asked-for product. <paramref name="anyGIdx"/>:
    /// the layer's g_idx is not declared sequential, so the kernel reads it per input (the act-order entry's cost).
    /// </summary>
    static CaseRun Linear(CaseInputs c, LayerInputs layer, int rows, Perturbation p, string? tile, bool anyGIdx = false)
    {
        var shape = anyGIdx ? layer.Shape with { SequentialGroupSize = 0 } : layer.Shape;
        var qweight = c.Ints(layer.QWeight.Value); var qzeros = c.Ints(layer.QZeros.Value); var gIdx = c.Ints(layer.GIdx);
        var scales = c.F32(layer.Scales.Value);
        var x = c.Activation(rows * shape.InFeatures, 60);
        var y = c.Zeros(rows * shape.OutFeatures);
        var scratch = c.Zeros(shape.InFeatures * shape.OutFeatures);
        var kernels = GptqKernels.For(c.Backend);
        var choice = tile is null ? GptqFusedChoice.Off : GptqFusedChoice.Parse(tile, () => throw new InvalidOperationException());
        var cuda = kernels as CudaGptqKernels;
        if (cuda is not null)
        {
            cuda.Choice = choice;
            string product = cuda.ProductFor(x, rows, shape, y);
            string wanted = tile is null ? GptqFusedChoice.DequantizeGemm
                : $"fused-{tile}{(GptqFusedKernel.SequentialGroups(shape) ? "" : " (any g_idx)")}";
            if (product != wanted)
                throw new InvalidOperationException($"{product} would serve, not {wanted} ({cuda.FusedUnavailable ?? "shape, inputs"})");
        }
        return new(() =>
        {
            if (cuda is not null) cuda.Choice = choice;
            kernels.Linear(x, rows, qweight, qzeros, scales, gIdx, shape, p, 3, scratch, y, accumulate: false);
        }, () => c.Read(y));
    }

    /// <summary>A random 4-bit layer [k → n], drawn once and shared by every variant of a case.</summary>
    sealed class LayerInputs
    {
        public GptqKernelShape Shape { get; }
        public int[] GIdx { get; }
        public Lazy<int[]> QWeight { get; }
        public Lazy<int[]> QZeros { get; }
        public Lazy<float[]> Scales { get; }

        /// <param name="actOrder">g_idx's order scrambled (the fused kernel's any-g_idx entry), else i / group</param>
        /// <param name="exactScales">(1 + j/8)·2^-7: with 4-bit codes every weight has at most 8 significant bits, exact in bf16</param>
        public LayerInputs(int k, int n, int group, bool actOrder, bool exactScales, int seed)
        {
            int groups = (k + group - 1) / group;
            GIdx = GptqPacking.DefaultGIdx(k, group);
            if (actOrder) new Random(seed).Shuffle(GIdx);
            Shape = new GptqKernelShape(k, n, groups, 4, ZerosOffsetByOne: true, GptqKernelShape.SequentialGroupSizeOf(GIdx, group));
            QWeight = new(() => RandomWords(k / 8 * n, seed + 1));
            QZeros = new(() => RandomWords(groups * n / 8, seed + 2));
            Scales = new(() => Enumerable.Range(0, groups * n)
                .Select(i => exactScales ? (8 + i % 8) / 8f / 128 : 0.001f + i % 97 * 1e-4f).ToArray());
        }

        static int[] RandomWords(int count, int seed)
        {
            var words = new int[count];
            new Random(seed).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan()));
            return words;
        }
    }
}
