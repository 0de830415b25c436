using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.Tests.Compute;

/// <summary>Buffers, transfers, copies and the random fill of the GPU backend (ILGPU's CPU accelerator) against the CPU backend.</summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuTransferAndRandomTests
{
    [CoversBackendOperation(nameof(IBackend.Allocate))]
    [CoversBackendOperation(nameof(IBackend.Upload))]
    [CoversBackendOperation(nameof(IBackend.Download))]
    [CoversBackendOperation(nameof(IBackend.Copy))]
    [CoversBackendOperation(nameof(IBackend.Synchronize))]
    [Fact]
    public void UploadCopyAndDownloadAtOffsetsAreExact()
    {
        // Every byte must come back as it went in, on both backends: any dtype is raw bytes to these operations.
        using var pair = new BackendPair();
        const int n = 1001;
        var bytes = new byte[n * 4];
        new Random(31).NextBytes(bytes);
        int[] Run(IBackend backend)
        {
            using var source = backend.Allocate(DType.I32, n, MemoryCategory.Activations);
            using var destination = backend.Allocate(DType.I32, n, MemoryCategory.Activations);
            Assert.Equal(n, source.Length);
            Assert.Equal(DType.I32, source.DType);
            backend.Upload<byte>(source, bytes);
            backend.Upload<int>(destination, new int[n]);
            backend.Copy(source, destination, n - 1); // the last element stays zero
            backend.Upload<int>(destination, [7, 8], offset: 500);
            backend.Synchronize();
            var result = new int[n];
            backend.Download<int>(destination, result.AsSpan(0, 10));
            backend.Download<int>(destination, result.AsSpan(10), offset: 10); // offsets count elements
            return result;
        }
        var cpu = Run(pair.Cpu);
        Assert.Equal(cpu, Run(pair.Gpu));
        Assert.Equal(BitConverter.ToInt32(bytes, 4 * 499), cpu[499]);
        Assert.Equal([7, 8], cpu[500..502]);
        Assert.Equal(BitConverter.ToInt32(bytes, 4 * 502), cpu[502]);
        Assert.Equal(0, cpu[n - 1]);
    }

    [CoversBackendOperation(nameof(IBackend.FillRandom))]
    [Theory]
    [InlineData(RandomFill.Gaussian, true)]
    [InlineData(RandomFill.Gaussian, false)]  // rounded to bf16 on the GPU
    [InlineData(RandomFill.Uniform, true)]
    [InlineData(RandomFill.Bits, true)]
    public void FillRandomDrawsTheCpuStream(RandomFill kind, bool f32)
    {
        // The same Philox stream on both sides: equal bits, or on bf16 the CPU's fp32 value rounded once (1/256 relative).
        using var pair = new BackendPair();
        const int n = 2500;
        var (cc, cg) = kind == RandomFill.Bits ? pair.Ints(new int[n]) : pair.Zeros(n, f32);
        pair.Cpu.FillRandom(cc, kind, 0x5EEDUL, 3, 0.5f, 2f, n);
        pair.Gpu.FillRandom(cg, kind, 0x5EEDUL, 3, 0.5f, 2f, n);
        if (kind == RandomFill.Bits) Assert.Equal(pair.ReadInts(cc), pair.ReadInts(cg));
        else if (f32) Assert.Equal(pair.Read(cc), pair.Read(cg));
        else pair.AssertClose(cc, cg, relative: 1.0 / 256, absolute: 0);
        Assert.True((kind == RandomFill.Bits ? pair.ReadInts(cc).Select(v => (float)v) : pair.Read(cc)).Distinct().Count() > n / 2);
    }

    [CoversBackendOperation(nameof(IBackend.CopyMatrix))]
    [Fact]
    public void MatrixCopiesEqualTheCpusOfBothWidths()
    {
        using var pair = new BackendPair();
        var doubles = Enumerable.Range(0, 100).Select(i => Math.Sin(i) * 1e3).ToArray();
        var (sc, sg) = pair.Doubles(doubles);
        var (dc, dg) = pair.Doubles(new double[12]);
        pair.Cpu.CopyMatrix(new MatrixView(sc, 11, 10), MatrixView.Of(dc, 3), 4, 3);
        pair.Gpu.CopyMatrix(new MatrixView(sg, 11, 10), MatrixView.Of(dg, 3), 4, 3);
        Assert.Equal(pair.ReadDoubles(dc), pair.ReadDoubles(dg));

        var (fc, fg) = pair.Activation(BackendPair.RandomBf16(100, 7), f32: true);
        var (oc, og) = pair.Zeros(10, f32: true);
        pair.Cpu.CopyMatrix(new MatrixView(fc, 0, 11), MatrixView.Of(oc, 1), 10, 1);
        pair.Gpu.CopyMatrix(new MatrixView(fg, 0, 11), MatrixView.Of(og, 1), 10, 1);
        Assert.Equal(pair.Read(oc), pair.Read(og));
    }
}
