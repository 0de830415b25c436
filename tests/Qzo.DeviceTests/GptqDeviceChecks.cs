using System.Diagnostics;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Qzo.Tests.Compute;
using Qzo.Tests.Quantization;
using Xunit.Abstractions;

namespace Qzo.DeviceTests;

/// <summary>
/// GPTQ on the GPU (cuBLAS fp32 Gram, Dgemm, Dtrsm; ILGPU column loop) against the CPU reference, and its speed on Llama-2-7B shapes.
/// </summary>
public class GptqDeviceChecks(ITestOutputHelper output)
{
    /// <summary>
    /// Several 256-column blocks: the host factors the diagonal ones, cuBLAS the panels, the trailing updates and the inverse.
    /// </summary>
    [Fact]
    public void BlockedCholeskyAndInverseMatchTheCpu()
    {
        const int n = 1000;
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        var x = GptqQuantizerTests.CorrelatedInputs(2 * n, n, 5);
        using var sum = new HessianAccumulator(cpu, n);
        sum.Add(x, 2 * n);
        var h = sum.Download().Select(v => (double)v).ToArray();
        for (int j = 0; j < n; j++) h[j * n + j] += 0.01 * h[j * n + j] + 1e-3;
        double[] Run(IBackend backend, out double[] factor)
        {
            using var a = backend.Allocate(DType.F64, (long)n * n, MemoryCategory.Workspace);
            using var inverse = backend.Allocate(DType.F64, (long)n * n, MemoryCategory.Workspace);
            backend.Upload<double>(a, h);
            Assert.True(backend.CholeskyLower(a, n));
            factor = new double[n * n];
            backend.Download<double>(a, factor);
            backend.InvertLower(a, n, inverse);
            var values = new double[n * n];
            backend.Download<double>(inverse, values);
            return values;
        }
        var expected = Run(cpu, out var cpuFactor);
        var actual = Run(gpu, out var gpuFactor);
        double factorError = cpuFactor.Zip(gpuFactor, (p, q) => Math.Abs(p - q) / (1 + Math.Abs(p))).Max();
        double inverseError = expected.Zip(actual, (p, q) => Math.Abs(p - q)).Max() / expected.Max(Math.Abs);
        output.WriteLine($"n = {n}: max relative difference of L {factorError:E2}, of L⁻¹ {inverseError:E2}");
        Assert.True(factorError < 1e-10 && inverseError < 1e-8, $"L {factorError}, L⁻¹ {inverseError}");
    }

    [Theory]
    [InlineData(4, 128, true, true, false)]
    [InlineData(2, 64, false, true, true)]
    [InlineData(3, -1, false, false, false)]
    [InlineData(8, 32, true, false, false)]
    public void RandomLayerMatchesTheCpuReference(int bits, int groupSize, bool sym, bool actOrder, bool staticGroups)
    {
        const int rows = 1024, n = 1024, tokens = 4096;
        using var gpu = CudaBackend.Create();
        var x = GptqQuantizerTests.CorrelatedInputs(tokens, n, bits, deadInputs: [7, 500]);
        using var activations = gpu.Allocate(DType.BF16, x.Length, MemoryCategory.Activations);
        gpu.Upload<byte>(activations, DTypes.FromSingle(DType.BF16, x)); // as a linear's input arrives on the GPU
        using var hessian = new HessianAccumulator(gpu, n);
        hessian.Add(activations, tokens);
        var weight = GptqQuantizerTests.Gaussian(new Random(bits), rows * n, 0.02f);
        var settings = new GptqSettings(bits, groupSize, sym, actOrder, staticGroups);
        var clock = Stopwatch.StartNew();
        var solution = GptqSolver.Quantize(gpu, weight, rows, n, hessian.Sum, settings);
        double gpuSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var reference = GptqQuantizer.Quantize(weight, rows, n, hessian.Download(), settings);
        output.WriteLine($"{rows}×{n}, {settings}: GPU {gpuSeconds:F3} s, CPU {clock.Elapsed.TotalSeconds:F2} s; " +
            $"{GpuGptqTests.AssertAlmostEqual(reference, solution)}");
    }

    /// <summary>
    /// Llama-2-7B's q_proj (4096 inputs) and down_proj (11008 inputs), 4-bit, group 128, act-order, with Hessians of
    /// 128 × 2048 calibration rows accumulated 4096 rows at a time as the calibration forward passes deliver them.
    /// </summary>
    [Theory]
    [InlineData(4096, 4096)]
    [InlineData(4096, 11008)]
    public void LlamaShapesAgainstTheCpu(int rows, int n)
    {
        const int calibrationRows = 128 * 2048, chunk = 4096;
        using var gpu = CudaBackend.Create();
        WarmUp(gpu);
        using var hessian = new HessianAccumulator(gpu, n);
        using var activations = gpu.Allocate(DType.BF16, (long)chunk * n, MemoryCategory.Activations);
        var clock = Stopwatch.StartNew();
        double hessianSeconds = 0;
        for (int r0 = 0; r0 < calibrationRows; r0 += chunk)
        {
            gpu.FillRandom(activations, RandomFill.Gaussian, 17, r0 / chunk, 0, 1, (long)chunk * n);
            gpu.Synchronize();
            clock.Restart();
            hessian.Add(activations, chunk);
            gpu.Synchronize();
            hessianSeconds += clock.Elapsed.TotalSeconds;
        }
        var weight = GptqQuantizerTests.Gaussian(new Random(n), rows * n, 0.02f);
        var settings = new GptqSettings(4, 128, Sym: true, ActOrder: true);
        clock.Restart();
        var solution = GptqSolver.Quantize(gpu, weight, rows, n, hessian.Sum, settings);
        double gpuSeconds = clock.Elapsed.TotalSeconds;
        var h = hessian.Download();
        clock.Restart();
        var reference = GptqQuantizer.Quantize(weight, rows, n, h, settings);
        double cpuSeconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"[{rows}, {n}], {calibrationRows} calibration rows: Hessian {hessianSeconds:F2} s " +
                         $"({2.0 * calibrationRows * n * n / hessianSeconds / 1e12:F1} TFLOP/s fp32), " +
                         $"GPTQ on the GPU {gpuSeconds:F2} s, on the CPU ({Environment.ProcessorCount} threads) {cpuSeconds:F1} s; " +
                         $"{GpuGptqTests.AssertAlmostEqual(reference, solution)}");
        if (gpu.Profile is { } profile)
            output.WriteLine(string.Join(", ",
                profile.OrderByDescending(p => p.Value.Seconds).Select(p => $"{p.Key} {p.Value.Seconds:F3} s ×{p.Value.Calls}")));
    }

    /// <summary>Compiles the kernels and starts cuBLAS on a small problem, so the timings above measure the work.</summary>
    static void WarmUp(IBackend gpu)
    {
        const int n = 512;
        var x = GptqQuantizerTests.CorrelatedInputs(n, n, 1);
        using var activations = gpu.Allocate(DType.BF16, x.Length, MemoryCategory.Activations);
        gpu.Upload<byte>(activations, DTypes.FromSingle(DType.BF16, x));
        using var hessian = new HessianAccumulator(gpu, n);
        hessian.Add(activations, n);
        GptqSolver.Quantize(gpu, GptqQuantizerTests.Gaussian(new Random(1), 64 * n, 0.02f), 64, n, hessian.Sum,
            new GptqSettings(4, 128, Sym: true, ActOrder: true));
    }
}
