using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Aqlm.Kernels;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Bnb.Kernels;

namespace Qzo.Tests.Compute;

/// <summary>
/// The CPU backend's bitsandbytes 4-bit and AQLM dequantization (with the QZO perturbation folded into the scales)
/// against the plain references written from the layouts, with the scales perturbed by hand.
/// </summary>
public class FormatDequantizationTests
{
    readonly CpuBackend _cpu = new();

    DeviceTensor Upload<T>(T[] values, DType dtype) where T : unmanaged
    {
        var t = _cpu.Allocate(dtype, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).Length / dtype.SizeInBytes(),
            MemoryCategory.Activations);
        _cpu.Upload<T>(t, values);
        return t;
    }

    float[] Read(DeviceTensor t)
    {
        var values = new float[t.Length];
        _cpu.Download<float>(t, values);
        return values;
    }

    static float[] Perturbed(float[] scales, Perturbation p, int tensor) =>
        scales.Select((s, i) => GaussianDirection.Step(s, p.Scale, GaussianDirection.Z(p.Seed, tensor, i))).ToArray();

    public static float[] RandomWeight(int count, int seed, float std = 0.05f)
    {
        var w = new float[count];
        GaussianDirection.Fill((ulong)seed, 1, 0, w);
        for (int i = 0; i < count; i++) w[i] *= std;
        return w;
    }

    [Theory]
    [InlineData(FourBitType.Nf4, 24, 40, 64, false)]
    [InlineData(FourBitType.Fp4, 7, 9, 32, false)]    // an odd count: the last byte's low nibble is padding
    [InlineData(FourBitType.Nf4, 10, 64, 128, true)]
    public void Bnb4BitMatchesTheReference(FourBitType type, int outF, int inF, int blockSize, bool perturbed)
    {
        var weight = RandomWeight(outF * inF, outF);
        var linear = Bnb4BitLinearTensors.Quantize(weight, outF, inF, type, blockSize, doubleQuant: false, "float32");
        var p = perturbed ? new Perturbation(11, 0.01f) : Perturbation.None;
        var absmax = linear.AbsmaxValues();
        using var packed = Upload(linear.Packed, DType.U8);
        using var code = Upload(FourBitCode.For(type).Values.ToArray(), DType.F32);
        using var master = Upload(absmax, DType.F32);
        using var output = _cpu.Allocate(DType.F32, outF * inF, MemoryCategory.Workspace);
        Bnb4BitKernels.For(_cpu).Dequantize(packed, code, master, new Bnb4BitKernelShape(outF, inF, blockSize), p, 3, output);
        var expected = Bnb4BitReference.Dequantize(linear.Packed, perturbed ? Perturbed(absmax, p, 3) : absmax,
            FourBitCode.For(type).Values, blockSize, outF * inF);
        Assert.Equal(expected, Read(output));
        if (!perturbed) Assert.True(QuantizeReport.RelativeError(weight, expected) < 0.2);
    }

    [Theory]
    [InlineData(2, 8, 8, 1, 16, 32, false)]   // 2x8
    [InlineData(1, 12, 8, 1, 8, 16, true)]    // a 1x16-like code (12 bits, stored as int16)
    [InlineData(3, 3, 3, 2, 6, 9, true)]      // out groups of 2 rows, an odd in-group
    public void AqlmMatchesTheReference(int codebooks, int bits, int inGroup, int outGroup, int outF, int inF, bool perturbed)
    {
        var scheme = new AqlmScheme(codebooks, bits, inGroup, outGroup);
        var random = new Random(bits);
        var codes = Enumerable.Range(0, outF / outGroup * (inF / inGroup) * codebooks)
            .Select(_ => random.Next(scheme.CodebookSize)).ToArray();
        var books = RandomWeight(codebooks * scheme.CodebookSize * outGroup * inGroup, bits, 0.3f).Select(v => (Half)v).ToArray();
        var scales = Enumerable.Range(0, outF / outGroup).Select(i => 0.5f + 0.1f * i).ToArray();
        var p = perturbed ? new Perturbation(12, 0.02f) : Perturbation.None;
        using var codeTensor = Upload(AqlmCodes.Pack(codes, bits), scheme.CodeDType);
        using var bookTensor = Upload(books, DType.F16);
        using var master = Upload(scales, DType.F32);
        using var output = _cpu.Allocate(DType.F32, outF * inF, MemoryCategory.Workspace);
        var shape = new AqlmKernelShape(outF, inF, codebooks, bits, inGroup, outGroup);
        AqlmKernels.For(_cpu).Dequantize(codeTensor, bookTensor, master, shape, p, 5, output);
        var expected = AqlmReference.Dequantize(codes, books.Select(h => (float)h).ToArray(), perturbed ? Perturbed(scales, p, 5) : scales,
            scheme, outF, inF);
        Assert.Equal(expected, Read(output));
    }
}
