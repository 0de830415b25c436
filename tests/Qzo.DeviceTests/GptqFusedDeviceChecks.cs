using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.Numerics;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;
using Xunit.Abstractions;

using static Qzo.DeviceTests.DeviceUploads;

namespace Qzo.DeviceTests;

/// <summary>
/// The fused GPTQ kernel (Compute/Cuda/Nvrtc/gptq_fused.cu) against the CPU reference: its weights bit for bit, under the
/// + and − perturbations of a QZO step, and its products against the CPU and against dequantize + cuBLAS.
/// </summary>
public class GptqFusedDeviceChecks(ITestOutputHelper output)
{
    /// <summary>A 4-bit layer with its inputs, on the host; the same values go to each backend.</summary>
    sealed record Layer(int[] QWeight, int[] QZeros, float[] Scales, int[] GIdx, GptqKernelShape Shape)
    {
        public static Layer Random(int inF, int outF, int groupSize, bool actOrder, int seed)
        {
            var random = new Random(seed);
            int groups = (inF + groupSize - 1) / groupSize;
            var qweight = Enumerable.Range(0, inF / 8 * outF).Select(_ => random.Next() ^ (random.Next() << 16)).ToArray();
            var qzeros = Enumerable.Range(0, groups * outF / 8).Select(_ => random.Next() ^ (random.Next() << 16)).ToArray();
            var scales = Enumerable.Range(0, groups * outF).Select(_ => (float)(0.001 + random.NextDouble() * 0.02)).ToArray();
            var gIdx = GptqPacking.DefaultGIdx(inF, groupSize);
            if (actOrder) random.Shuffle(gIdx);
            var shape = new GptqKernelShape(inF, outF, groups, 4, ZerosOffsetByOne: seed % 2 == 0,
                                            GptqKernelShape.SequentialGroupSizeOf(gIdx, groupSize));
            return new Layer(qweight, qzeros, scales, gIdx, shape);
        }

        /// <summary>y = x·W (+ y) through IGptqKernels.Linear on <paramref name="backend"/>; y's values as floats.</summary>
        public float[] Linear(IBackend backend, float[] x, int rows, Perturbation p, float[] y, bool accumulate, out string product,
                              GptqFusedChoice? choice = null)
        {
            int inF = Shape.InFeatures, outF = Shape.OutFeatures;
            var compute = backend.ComputeType;
            using var qw = Ints(backend, QWeight); using var qz = Ints(backend, QZeros); using var gi = Ints(backend, GIdx);
            using var s = F32(backend, Scales);
            using var xs = compute == DType.F32 ? F32(backend, x) : Bf16(backend, x);
            using var ys = compute == DType.F32 ? F32(backend, y) : Bf16(backend, y);
            using var scratch = backend.Allocate(compute, (long)inF * outF, MemoryCategory.Workspace);
            var kernels = GptqKernels.For(backend);
            product = "cpu";
            if (kernels is CudaGptqKernels cuda)
            {
                cuda.Choice = choice ?? GptqFusedChoice.Off;
                product = cuda.ProductFor(xs, rows, Shape, ys);
            }
            kernels.Linear(xs, rows, qw, qz, s, gi, Shape, p, 3, scratch, ys, accumulate);
            return Read(backend, ys);
        }

        /// <summary>The CPU's fp32 weights [in, out] under p.</summary>
        public float[] CpuWeights(CpuBackend cpu, Perturbation p)
        {
            using var qw = Ints(cpu, QWeight); using var qz = Ints(cpu, QZeros); using var gi = Ints(cpu, GIdx);
            using var s = F32(cpu, Scales);
            using var w = cpu.Allocate(DType.F32, (long)Shape.InFeatures * Shape.OutFeatures, MemoryCategory.Workspace);
            GptqKernels.For(cpu).Dequantize(qw, qz, s, gi, Shape, p, 3, w);
            var values = new float[w.Length];
            cpu.Download<float>(w, values);
            return values;
        }
    }

    /// <summary>
    /// x = the identity: y is W itself, exactly (one nonzero product per sum), so every weight the kernel forms in registers
    /// must be the CPU's weight rounded to bf16. 1000 inputs: a ragged last stage and a ragged last block of rows; 1040
    /// outputs: a ragged last block of columns.
    /// </summary>
    [Theory]
    [InlineData("64x128", false, 1)]
    [InlineData("64x128", false, -1)]
    [InlineData("64x128", false, 0)]
    [InlineData("64x128", true, 1)]
    [InlineData("128x128", false, -1)]
    [InlineData("128x128", true, 1)]
    [InlineData("64x64", false, 1)]
    [InlineData("64x64", true, -1)]
    public void FusedWeightsEqualTheCpuBitForBit(string tile, bool actOrder, int sign)
    {
        const int inF = 1000, outF = 1040;
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        var layer = Layer.Random(inF, outF, 128, actOrder, 11 + sign);
        var p = new Perturbation(0x5EED, sign * 1e-3f);
        var identity = new float[inF * inF];
        for (int i = 0; i < inF; i++) identity[i * inF + i] = 1f;
        var y = layer.Linear(gpu, identity, inF, p, new float[inF * outF], accumulate: false, out string product,
                             GptqFusedChoice.Parse(tile, () => throw new InvalidOperationException()));
        Assert.Equal($"fused-{tile}{(actOrder ? " (any g_idx)" : "")}", product);
        var expected = layer.CpuWeights(cpu, p);
        int differ = Enumerable.Range(0, y.Length).Count(i => y[i] != BFloat16.ToSingle(BFloat16.FromSingle(expected[i])));
        output.WriteLine($"{product}, perturbation {p.Scale:+0.0e0;-0.0e0;none}: {differ} of {y.Length:N0} weights differ from the CPU's");
        Assert.Equal(0, differ);
    }

    /// <summary>
    /// Random inputs, 300 rows (ragged in every tile), 2048 inputs over 16 groups, perturbed: the fused product against the
    /// CPU (fp32 weights: within the bf16 rounding of each weight and of the result) and against dequantize + cuBLAS on the same
    /// GPU (the same bf16 weights: within a rounding of the result and fp32 summation order).
    /// </summary>
    [Theory]
    [InlineData("64x128", false, false)]
    [InlineData("128x128", false, true)]
    [InlineData("64x64", false, false)]
    [InlineData("64x128", true, true)]
    public void FusedProductMatchesTheCpuAndCublas(string tile, bool actOrder, bool accumulate)
    {
        const int inF = 2048, outF = 1040, rows = 300;
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        var layer = Layer.Random(inF, outF, 128, actOrder, 21);
        var p = new Perturbation(0xABC, 1e-3f);
        var random = new Random(22);
        var x = Enumerable.Range(0, rows * inF).Select(_ => Bf16Value(random.NextDouble() * 2 - 1)).ToArray();
        var before = Enumerable.Range(0, rows * outF).Select(_ => accumulate ? Bf16Value(random.NextDouble() * 2 - 1) : 0f).ToArray();
        var fused = layer.Linear(gpu, x, rows, p, before, accumulate, out string product,
                                 GptqFusedChoice.Parse(tile, () => throw new InvalidOperationException()));
        Assert.StartsWith($"fused-{tile}", product);
        var cublas = layer.Linear(gpu, x, rows, p, before, accumulate, out string baseline);
        Assert.Equal(GptqFusedChoice.DequantizeGemm, baseline);
        var reference = layer.Linear(cpu, x, rows, p, before, accumulate, out _);

        var w = layer.CpuWeights(cpu, p);
        var magnitude = new double[rows * outF];
        Parallel.For(0, rows, r =>
        {
            for (int o = 0; o < outF; o++)
            {
                double sum = Math.Abs(before[r * outF + o]);
                for (int k = 0; k < inF; k++) sum += Math.Abs((double)x[r * inF + k] * w[k * outF + o]);
                magnitude[r * outF + o] = sum;
            }
        });
        // against the CPU: each weight and the result rounded to bf16 (2^-9 each); against cuBLAS: the result's rounding on
        // either side and the fp32 sums' order (cuBLAS may also reduce split-K partial sums in bf16: 2^-12 leaves room)
        int offCpu = 0, offCublas = 0; double worstCpu = 0, worstCublas = 0;
        for (int i = 0; i < fused.Length; i++)
        {
            double toCpu = Math.Abs(fused[i] - reference[i]), toCublas = Math.Abs(fused[i] - cublas[i]);
            worstCpu = Math.Max(worstCpu, toCpu / magnitude[i]);
            worstCublas = Math.Max(worstCublas, toCublas / magnitude[i]);
            if (!(toCpu <= Math.Abs(reference[i]) / 128 + magnitude[i] / 256)) offCpu++;
            if (!(toCublas <= Math.Abs(cublas[i]) / 64 + magnitude[i] / 4096)) offCublas++;
        }
        output.WriteLine($"{product}, {rows}×{inF}·{inF}×{outF}{(accumulate ? " accumulated" : "")}: " +
                         $"max |fused − cpu|/Σ|x·w| {worstCpu:E2} " +
                         $"({offCpu} outside), max |fused − cuBLAS|/Σ|x·w| {worstCublas:E2} ({offCublas} outside)");
        Assert.Equal(0, offCpu);
        Assert.Equal(0, offCublas);
    }

    static float Bf16Value(double v) => BFloat16.ToSingle(BFloat16.FromSingle((float)v));

    static DeviceTensor Ints(IBackend b, int[] values)
    {
        var t = b.Allocate(DType.I32, values.Length, MemoryCategory.Workspace);
        b.Upload<int>(t, values);
        return t;
    }

    static float[] Read(IBackend b, DeviceTensor t)
    {
        var raw = new byte[t.ByteLength];
        b.Download<byte>(t, raw);
        var values = new float[t.Length];
        DTypes.ToSingle(t.DType, raw, values);
        return values;
    }
}
