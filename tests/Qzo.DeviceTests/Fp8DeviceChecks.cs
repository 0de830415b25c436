using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.Numerics;
using Xunit.Abstractions;

namespace Qzo.DeviceTests;

/// <summary>
/// --compute fp8 on the GPU (streaming_kernels.cu's FP8 section, cuBLASLt's e4m3 product) against the CPU's emulation:
/// the codes the tensor cores read equal Fp8E4M3's bit for bit (the amax, the scaling, the rounding, the transposition),
/// and the products agree within the fp32 sums' reordering and the bf16 output's rounding.
/// </summary>
public class Fp8DeviceChecks(ITestOutputHelper output)
{
    [Theory]
    [InlineData(64, 256, 512, true, false, false)]
    [InlineData(64, 256, 512, false, true, false)]
    [InlineData(1, 4096, 4096, true, false, true)]
    [InlineData(300, 1024, 2048, false, false, true)]
    [InlineData(16, 11008, 4096, true, false, false)]
    public void CodesEqualTheCpuAndProductsAgree(int m, int n, int k, bool inputMajor, bool bias, bool accumulate)
    {
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        var random = new Random(m + n + k);
        // bf16 values (exact as floats, rounded after the magnitude is applied: the GPU's bf16 copies must hold the very values
        // the CPU gets), spanning magnitudes so that some land among e4m3's subnormals after scaling
        float Value(double spread, float magnitude = 1f) => BFloat16.ToSingle(BFloat16.FromSingle((float)((random.NextDouble() - 0.5) *
            Math.Pow(10, -spread * random.NextDouble())) * magnitude));
        var x = Enumerable.Range(0, m * k).Select(_ => Value(3, 4f)).ToArray();
        var w = Enumerable.Range(0, n * k).Select(_ => Value(4, 0.05f)).ToArray();
        var b = Enumerable.Range(0, n).Select(_ => Value(1)).ToArray();
        var y0 = Enumerable.Range(0, m * n).Select(_ => Value(1)).ToArray();

        using var gx = Bf16(gpu, x); using var gw = Bf16(gpu, w); using var gb = Bf16(gpu, b); using var gy = Bf16(gpu, y0);
        using var cx = F32(cpu, x); using var cw = F32(cpu, w); using var cb = F32(cpu, b); using var cy = F32(cpu, y0);
        gpu.QuantizedLinearPrecision = LinearPrecision.Fp8;
        Assert.True(gpu.TryMatMulFp8(gx, gw, inputMajor, bias ? gb : null, gy, m, n, k, accumulate), "the GPU declined the shape");
        Assert.True(cpu.TryMatMulFp8(cx, cw, inputMajor, bias ? cb : null, cy, m, n, k, accumulate));

        var (weightCodes, inputCodes, words) = gpu.LastFp8Operands(m, n, k);
        float amaxW = w.Max(MathF.Abs), amaxX = x.Max(MathF.Abs);
        Assert.Equal(BitConverter.SingleToUInt32Bits(amaxW), words[0]);
        Assert.Equal(BitConverter.SingleToUInt32Bits(amaxX), words[1]);
        Assert.Equal(Fp8E4M3.Scaling(amaxW).Scale, BitConverter.UInt32BitsToSingle(words[2]));
        Assert.Equal(Fp8E4M3.Scaling(amaxX).Scale, BitConverter.UInt32BitsToSingle(words[3]));
        float invW = Fp8E4M3.Scaling(amaxW).Inverse, invX = Fp8E4M3.Scaling(amaxX).Inverse;
        int weightDiffer = 0, inputDiffer = 0;
        for (int r = 0; r < n; r++)
            for (int c = 0; c < k; c++)
            {
                float value = inputMajor ? w[c * n + r] : w[r * k + c]; // the codes are [n, k] either way
                if (weightCodes[r * k + c] != Fp8E4M3.Encode(value * invW)) weightDiffer++;
            }
        for (int i = 0; i < m * k; i++)
            if (inputCodes[i] != Fp8E4M3.Encode(x[i] * invX)) inputDiffer++;
        output.WriteLine($"{m}×{n}×{k} {(inputMajor ? "[k, n]" : "[n, k]")} bias {bias} accumulate {accumulate}: " +
                         $"codes differing: weight {weightDiffer} of {n * k}, input {inputDiffer} of {m * k}");
        Assert.Equal(0, weightDiffer);
        Assert.Equal(0, inputDiffer);

        var got = new ushort[m * n]; gpu.Download<ushort>(gy, got);
        var expected = new float[m * n]; cpu.Download<float>(cy, expected);
        double worst = 0;
        for (int i = 0; i < m * n; i++)
        {
            double error = Math.Abs(BFloat16.ToSingle(got[i]) - expected[i]);
            worst = Math.Max(worst, error / (Math.Abs(expected[i]) * Math.Pow(2, -7) + 1e-3));
        }
        output.WriteLine($"  worst |gpu − cpu| / (2⁻⁷·|cpu| + 1e-3): {worst:F3}");
        Assert.True(worst <= 1, $"the fp8 products differ from the CPU's emulation ({worst:F3} of the tolerance)");
    }

    static DeviceTensor Bf16(IBackend gpu, float[] values)
    {
        var t = gpu.Allocate(DType.BF16, values.Length, MemoryCategory.Workspace);
        gpu.Upload<ushort>(t, values.Select(BFloat16.FromSingle).ToArray());
        return t;
    }

    static DeviceTensor F32(IBackend cpu, float[] values)
    {
        var t = cpu.Allocate(DType.F32, values.Length, MemoryCategory.Workspace);
        cpu.Upload<float>(t, values);
        return t;
    }
}
