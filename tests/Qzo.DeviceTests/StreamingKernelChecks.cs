using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.Numerics;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;
using Xunit.Abstractions;

namespace Qzo.DeviceTests;

/// <summary>
/// The NVRTC streaming kernels (streaming_kernels.cu) against the CPU backend, bit for bit: the perturbed copies and
/// the update regenerate z exactly, and GPTQ dequantization rounds scale·(q − zero) to bf16 once, as the CPU's fp32
/// weight rounded to bf16.
/// </summary>
public class StreamingKernelChecks(ITestOutputHelper output)
{
    [Fact]
    public void TheStreamingKernelsAreTheOnesInUse()
    {
        using var gpu = CudaBackend.Create();
        output.WriteLine(gpu.StreamingKernelName);
        Assert.StartsWith("streaming kernels", gpu.StreamingKernelName);
    }

    [Fact]
    public void UpdateAndBf16CopyEqualTheCpuBitForBit()
    {
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        const int n = 3_000_001;
        var random = new Random(5);
        var master = Enumerable.Range(0, n).Select(i => i % 1000 == 0 ? 0f : (float)(random.NextDouble() * 0.02)).ToArray();
        foreach (float? floor in new float?[] { null, 0f, 0.005f })
        {
            using var g = F32(gpu, master); using var c = F32(cpu, master);
            gpu.ZerothOrderUpdate(g, 0xFEEDUL, 17, 3e-3f, floor, n);
            cpu.ZerothOrderUpdate(c, 0xFEEDUL, 17, 3e-3f, floor, n);
            var a = new float[n]; var b = new float[n];
            gpu.Download<float>(g, a); cpu.Download<float>(c, b);
            int differ = Enumerable.Range(0, n).Count(i => BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]));
            output.WriteLine($"update, floor {floor?.ToString() ?? "none"}: {differ} of {n:N0} differ");
            Assert.Equal(0, differ);
        }
        using var source = F32(gpu, master);
        using var gpuCopy = gpu.Allocate(DType.BF16, n, MemoryCategory.Workspace);
        using var cpuSource = F32(cpu, master);
        using var cpuCopy = cpu.Allocate(DType.F32, n, MemoryCategory.Workspace);
        var p = new Perturbation(99, 1e-3f);
        gpu.PerturbedCopy(source, p, 4, gpuCopy, n);
        cpu.PerturbedCopy(cpuSource, p, 4, cpuCopy, n);
        var raw = new ushort[n]; gpu.Download<ushort>(gpuCopy, raw);
        var expected = new float[n]; cpu.Download<float>(cpuCopy, expected);
        int bf16Differ = Enumerable.Range(0, n).Count(i => raw[i] != BFloat16.FromSingle(expected[i]));
        output.WriteLine($"perturbed bf16 copy: {bf16Differ} of {n:N0} differ from the CPU's fp32 rounded to bf16");
        Assert.Equal(0, bf16Differ);
    }

    [Theory]
    [InlineData(4, 128, false, false)]
    [InlineData(4, 128, true, true)]   // act-order g_idx, GPTQ v1 zeros
    [InlineData(2, 64, false, true)]
    [InlineData(8, 32, true, false)]
    [InlineData(4, -1, false, true)]
    public void GptqDequantizeEqualsTheCpuBitForBit(int bits, int groupSize, bool actOrder, bool zerosOffsetByOne)
    {
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        const int inF = 1024, outF = 1040; // qzeros needs out_features · bits a multiple of 32
        int g = groupSize < 0 ? inF : groupSize, groups = inF / g;
        var random = new Random(bits * 1000 + g);
        var qweight = Enumerable.Range(0, inF * bits / 32 * outF).Select(_ => random.Next() ^ (random.Next() << 16)).ToArray();
        var qzeros = Enumerable.Range(0, groups * outF * bits / 32).Select(_ => random.Next() ^ (random.Next() << 16)).ToArray();
        var gIdx = Enumerable.Range(0, inF).Select(i => i / g).ToArray();
        if (actOrder) random.Shuffle(gIdx);
        var scales = Enumerable.Range(0, groups * outF).Select(_ => (float)(random.NextDouble() * 0.01)).ToArray();
        var shape = new GptqKernelShape(inF, outF, groups, bits, zerosOffsetByOne);
        var p = new Perturbation(7, 1e-3f);
        using var wg = gpu.Allocate(DType.BF16, (long)inF * outF, MemoryCategory.Workspace);
        using var wc = cpu.Allocate(DType.F32, (long)inF * outF, MemoryCategory.Workspace);
        using (var qw = I32(gpu, qweight)) using (var qz = I32(gpu, qzeros))
        using (var s = F32(gpu, scales)) using (var gi = I32(gpu, gIdx))
            GptqKernels.For(gpu).Dequantize(qw, qz, s, gi, shape, p, 3, wg);
        using (var qw = I32(cpu, qweight)) using (var qz = I32(cpu, qzeros))
        using (var s = F32(cpu, scales)) using (var gi = I32(cpu, gIdx))
            GptqKernels.For(cpu).Dequantize(qw, qz, s, gi, shape, p, 3, wc);
        var raw = new ushort[inF * outF]; gpu.Download<ushort>(wg, raw);
        var expected = new float[inF * outF]; cpu.Download<float>(wc, expected);
        int differ = Enumerable.Range(0, raw.Length).Count(i => raw[i] != BFloat16.FromSingle(expected[i]));
        output.WriteLine($"{bits}-bit, group {groupSize}, act-order {actOrder}, v1 zeros {zerosOffsetByOne}: " +
            $"{differ} of {raw.Length:N0} weights differ ({gpu.StreamingKernelName})");
        Assert.Equal(0, differ);
    }

    static DeviceTensor F32(IBackend b, float[] values)
    {
        var t = b.Allocate(DType.F32, values.Length, MemoryCategory.Workspace);
        b.Upload<float>(t, values);
        return t;
    }

    static DeviceTensor I32(IBackend b, int[] values)
    {
        var t = b.Allocate(DType.I32, values.Length, MemoryCategory.Workspace);
        b.Upload<int>(t, values);
        return t;
    }
}
