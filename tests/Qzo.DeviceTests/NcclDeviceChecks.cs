using System.Runtime.InteropServices;
using Qzo.Compute;
using Qzo.Compute.Cuda;
using Qzo.Compute.Cuda.Native;
using Qzo.Distributed;
using Qzo.Distributed.Nccl;
using Qzo.Models;
using Qzo.Models.Pipeline;
using Qzo.Numerics;
using Qzo.Tasks;
using Qzo.Tests;
using Qzo.Tests.Distributed;
using Qzo.Tests.Models;
using Qzo.Training;
using Xunit.Abstractions;

namespace Qzo.DeviceTests;

/// <summary>
/// NCCL with one rank on a one-GPU machine (issue 18 item 5; docs/distributed.md §NCCL): the library loads (from
/// QZO_NCCL_LIBRARY when set), a world of one meets through the TCP rendezvous on localhost, its collectives and a
/// send to itself return what went in, ILGPU's work goes on after NCCL calls, and a one-rank pipeline through NCCL
/// scores and trains as the model does without one. Each check opens its communicator before the CUDA backend, as a
/// worker does (src/Qzo.Cli/Commands/RankCommunicator.cs).
/// </summary>
public class NcclDeviceChecks(ITestOutputHelper output)
{
    static NcclCommunicator OpenOneRank() => NcclCommunicator.Create(
        new DistributedLaunch(0, 1, 0, "127.0.0.1", TcpRendezvous.FreeLoopbackPort(), "test"), deviceOrdinal: 0, TimeSpan.FromSeconds(60));

    [Fact]
    public void TheLibraryLoadsAndMulticastIsOff()
    {
        int version = NcclCommunicator.Version();
        output.WriteLine($"NCCL {version / 10000}.{version / 100 % 100}.{version % 100} " +
                         $"({Environment.GetEnvironmentVariable(NativeLibraries.NcclVariable) ?? "from the library search path"})");
        Assert.True(version >= 20700, $"NCCL {version}: ncclSend/ncclRecv need 2.7 or later");
        using var nccl = OpenOneRank();
        Assert.Equal("0", NativeEnvironment.Get("NCCL_NVLS_ENABLE"));
        Assert.Equal((0, 1), (nccl.Rank, nccl.WorldSize));
    }

    [Fact]
    public void OneRanksAllReduceAndBroadcastReturnTheirInput()
    {
        using var nccl = OpenOneRank();
        double[] values = [1.5, -2e300, 5e-324, double.MaxValue, -0.0, Math.PI];
        var sums = values.ToArray();
        nccl.AllReduceSum(sums);
        Assert.Equal(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), MemoryMarshal.AsBytes(sums.AsSpan()).ToArray());
        foreach (int length in new[] { 1, 4096, 3 << 20 })
        {
            var bytes = Enumerable.Range(0, length).Select(i => (byte)(i * 31 + 7)).ToArray();
            var copy = bytes.ToArray();
            nccl.Broadcast(copy, root: 0);
            Assert.Equal(bytes, copy);
        }
        nccl.Barrier();
    }

    [Fact]
    public void ASendToItselfInOneGroupArrivesWhole()
    {
        using var nccl = OpenOneRank();
        foreach (int length in new[] { 1, 1 << 20, NcclCommunicator.ChunkBytes + 12345 }) // the last in two chunks
        {
            var sent = new byte[length];
            new Random(length).NextBytes(sent);
            var received = new byte[length];
            var clock = System.Diagnostics.Stopwatch.StartNew();
            nccl.Exchange(sent, 0, received, 0);
            output.WriteLine($"{length:N0} bytes to itself in {clock.Elapsed.TotalMilliseconds:F1} ms (staged through the host)");
            Assert.True(sent.AsSpan().SequenceEqual(received), $"{length} bytes came back changed");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => nccl.Send(new byte[1], 0)); // Send/Receive are for other ranks
    }

    [Fact]
    public void IlgpuWorkGoesOnAfterNcclCalls()
    {
        using var nccl = OpenOneRank();
        using var gpu = CudaBackend.Create();
        var values = Enumerable.Range(0, 1000).Select(i => i * 0.25f).ToArray();
        using var x = gpu.Allocate(DType.F32, values.Length, MemoryCategory.Workspace);
        using var y = gpu.Allocate(DType.F32, values.Length, MemoryCategory.Workspace);
        gpu.Upload<float>(x, values);
        nccl.AllReduceSum(new double[3]); // NCCL's context is current during the call, ILGPU's again after it
        gpu.Upload<float>(y, values);
        gpu.Axpby(x, y, 1f, 1f, values.Length); // a kernel launch in ILGPU's context (fp32: the doubled quarters are exact)
        nccl.Broadcast(new byte[16], root: 0);
        var doubled = new float[values.Length];
        gpu.Download<float>(x, doubled);
        Assert.Equal(values.Select(v => 2 * v), doubled);
    }

    [Fact]
    public void AOneRankPipelineThroughNcclScoresAndTrainsAsOneDevice()
    {
        using var folder = new TempFolder();
        string path = PipelineCheckpoints.Gptq(folder);
        using var nccl = OpenOneRank();
        using var gpu = CudaBackend.Create();
        using var checkpoint = Checkpoint.Open(path);
        var batch = PipelineCheckpoints.Batch(sequences: 6, seed: 2);
        var probe = new Perturbation(Seed: 5, Scale: 1e-2f);
        using var whole = ModelLoader.Load(checkpoint, gpu, TrainingScope.QuantizationScales);
        using var staged = ModelLoader.LoadStage(checkpoint, gpu, TrainingScope.QuantizationScales, new PipelineStage(nccl, 1));
        Assert.Equal(whole.Loss(batch, probe).Sum, staged.Loss(batch, probe).Sum);
        Assert.Equal(whole.Logits(batch, [0, 11], probe), staged.Logits(batch, [0, 11], probe));

        var options = new ZoOptions { Steps = 3, BatchSize = 4, LearningRate = 1e-3f, Epsilon = 1e-3f, EvalEvery = 0, Seed = 3 };
        var examples = Enumerable.Range(0, 8).Select(i =>
        {
            var ids = TinyModels.RandomIds(6 + i % 4, 320, 40 + i);
            return (Example)new SequenceExample(ids, Enumerable.Repeat(true, ids.Length).ToArray());
        }).ToList();
        using var metrics = new MetricsWriter(null);
        var expected = LanguageModelTraining.Loop(whole, options, examples, validation: null, padId: 0, metrics).Run().History;
        var actual = LanguageModelTraining.Loop(staged, options, examples, validation: null, padId: 0, metrics).Run().History;
        output.WriteLine($"losses {string.Join(", ", actual.Select(h => $"{h.LossPlus:F6}/{h.LossMinus:F6}"))}");
        Assert.Equal(expected, actual);
        Assert.Equal(whole.Trainable.Select(p => p.Download(gpu)), staged.Trainable.Select(p => p.Download(gpu)));
    }
}
