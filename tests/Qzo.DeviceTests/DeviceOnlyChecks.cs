using System.Text.Json;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.Models;
using Qzo.Models.Architectures.Llama;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Numerics;
using Xunit.Abstractions;

using static Qzo.DeviceTests.DeviceUploads;

namespace Qzo.DeviceTests;

/// <summary>Checks that need a real GPU (sizes the CPU accelerator could not simulate in CI time).</summary>
public class DeviceOnlyChecks(ITestOutputHelper output)
{
    [Fact]
    public void ZOnTheGpuEqualsTheCpuBitForBit()
    {
        using var gpu = CudaBackend.Create();
        const int n = 16 << 20;
        using var zeros = gpu.Allocate(DType.F32, n, MemoryCategory.Workspace);
        using var z = gpu.Allocate(DType.F32, n, MemoryCategory.Workspace);
        gpu.FillRandom(zeros, RandomFill.Uniform, 0, 0, 0, 0, n);
        var values = new float[n];
        long mismatches = 0; double worst = 0;
        foreach (var (seed, tensor) in new[] { (0x0123456789ABCDEFUL, 0), (42UL, 7), (ulong.MaxValue, 311) })
        {
            gpu.PerturbedCopy(zeros, new Perturbation(seed, 1f), tensor, z, n);
            gpu.Download<float>(z, values);
            var bad = new long[1]; var err = new double[1];
            Parallel.For(0, 64, chunk =>
            {
                long localBad = 0; double localWorst = 0;
                for (int i = chunk * (n / 64); i < (chunk + 1) * (n / 64); i++)
                {
                    float expected = GaussianDirection.Z(seed, tensor, i);
                    if (expected != values[i]) { localBad++; localWorst = Math.Max(localWorst, Math.Abs(expected - values[i])); }
                }
                Interlocked.Add(ref bad[0], localBad);
                lock (err) err[0] = Math.Max(err[0], localWorst);
            });
            mismatches += bad[0]; worst = Math.Max(worst, err[0]);
        }
        output.WriteLine($"{3 * n:N0} draws: {mismatches} differ from the CPU's (largest difference {worst:E2})");
        Assert.Equal(0, mismatches);
    }

    [Theory]
    [InlineData(512, 4096, 4096, true)]
    [InlineData(1000, 11008, 4096, false)]
    public void CublasMatchesTheCpuOnLinearLayerShapes(int m, int n, int k, bool transposedB)
    {
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        var a = Random(m * k, 1); var b = Random(n * k, 2);
        using var ag = Bf16(gpu, a); using var bg = Bf16(gpu, b);
        using var cg = gpu.Allocate(DType.F32, (long)m * n, MemoryCategory.Workspace);
        using var ac = F32(cpu, a); using var bc = F32(cpu, b);
        using var cc = cpu.Allocate(DType.F32, (long)m * n, MemoryCategory.Workspace);
        if (transposedB) { gpu.MatMulTransposedB(ag, bg, cg, m, n, k); cpu.MatMulTransposedB(ac, bc, cc, m, n, k); }
        else { gpu.MatMul(ag, bg, cg, m, n, k); cpu.MatMul(ac, bc, cc, m, n, k); }
        var expected = new float[m * n]; var actual = new float[m * n];
        cpu.Download<float>(cc, expected); gpu.Download<float>(cg, actual);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        output.WriteLine($"[{m}×{k}]·[{k}×{n}]: max |cuBLAS − CPU| = {worst:E2} (sums of {k} products of magnitude ≤ 1)");
        Assert.True(worst < 1e-3, $"max difference {worst}");
    }

    sealed record Reference(int[][] input_ids, int[][] attention_mask, int[][] labels, int[] lengths, Run fp32);
    sealed record Run(double loss, float[][] last_logits, float[][] first_sequence_logits);

    [Theory]
    [InlineData("llama3-gqa-bf16")]
    [InlineData("llama2-tied-fp32")]
    public void HuggingFaceFixturesInBf16OnTheGpu(string name)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "hf-llama", name);
        var reference = JsonSerializer.Deserialize<Reference>(File.ReadAllText(Path.Combine(folder, "reference.json")))!;
        using var checkpoint = Checkpoint.Open(folder);
        using var gpu = CudaBackend.Create();
        using var model = ModelLoader.Load(checkpoint, gpu, TrainingScope.None);
        int batch = reference.input_ids.Length, seq = reference.input_ids[0].Length;
        var tokens = new TokenBatch
        {
            Batch = batch, Seq = seq, Ids = reference.input_ids.SelectMany(r => r).ToArray(),
            AttentionMask = reference.attention_mask.SelectMany(r => r).ToArray(), Labels = reference.labels.SelectMany(r => r).ToArray(),
        };
        double loss = model.Loss(tokens, Perturbation.None).Mean;
        var logits = model.Logits(tokens, Enumerable.Range(0, seq).ToArray());
        double scale = reference.fp32.first_sequence_logits.SelectMany(r => r).Max(v => Math.Abs((double)v));
        double worst = logits.Zip(reference.fp32.first_sequence_logits, (x, y) => x.Zip(y, (p, q) => Math.Abs(p - q)).Max()).Max();
        output.WriteLine($"{name}: loss {loss:F5} vs transformers fp32 {reference.fp32.loss:F5}; max |logit − hf| = {worst:F4} = " +
            $"{worst / scale:P2} of the logit scale {scale:F1}");
        Assert.True(worst <= 2e-2 * scale, $"logits differ by {worst} at scale {scale}");
        Assert.True(Math.Abs(loss - reference.fp32.loss) < 2e-2 * Math.Max(1, reference.fp32.loss),
            $"loss {loss} vs {reference.fp32.loss}");
    }

    [Fact]
    public void SynthesizedSmallShapeGpuMatchesCpu()
    {
        var config = ModelShapes.Get("small");
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        using var gpuModel = SyntheticLlama.Create(gpu, config, 4, 128, seed: 9, TrainingScope.QuantizationScales);
        using var cpuModel = SyntheticLlama.Create(cpu, config, 4, 128, seed: 9, TrainingScope.QuantizationScales);
        var random = new Random(3);
        var sequences = Enumerable.Range(0, 2)
            .Select(_ => Enumerable.Range(0, 64).Select(_ => random.Next(3, config.VocabSize)).ToArray()).ToList();
        var batch = TokenBatch.Pad(sequences.Select(s => (s, Enumerable.Repeat(true, 64).ToArray())).ToList(), 0);
        var p = new Perturbation(11, 1e-3f);
        double g = gpuModel.Loss(batch, p).Mean, c = cpuModel.Loss(batch, p).Mean;
        output.WriteLine($"small shape, perturbed: GPU loss {g:F5}, CPU loss {c:F5}");
        Assert.True(Math.Abs(g - c) < 5e-3 * c, $"GPU {g} vs CPU {c}");
    }

    /// <summary>
    /// The tensor-core attention against the CPU at a Llama-2-7B-like head layout, GQA 4:1, with right- and
    /// left-padded rows (a left-padded query before its first real token sees no key: output 0 on both).
    /// </summary>
    [Theory]
    [InlineData(300, 16, 4, 128, 0)]
    [InlineData(300, 16, 4, 128, 100)]   // Mistral's sliding window, shorter than the sequence and than a key tile's reach
    [InlineData(70, 4, 2, 64, 0)]
    [InlineData(131, 2, 1, 96, 7)]
    [InlineData(65, 4, 4, 32, 0)]
    public void FlashAttentionMatchesTheCpu(int seq, int heads, int kvHeads, int headDim, int window)
    {
        const int batch = 3;
        using var gpu = CudaBackend.Create();
        using var cpu = new CpuBackend();
        output.WriteLine($"attention kernel: {gpu.AttentionKernelName}");
        Assert.StartsWith("flash attention", gpu.AttentionKernelName);
        var q = Random(batch * seq * heads * headDim, 21, 3f); var k = Random(batch * seq * kvHeads * headDim, 22, 3f);
        var v = Random(batch * seq * kvHeads * headDim, 23);
        var mask = new int[batch * seq];
        for (int i = 0; i < seq; i++) { mask[i] = 1; mask[seq + i] = i < seq - 37 ? 1 : 0; mask[2 * seq + i] = i >= 45 ? 1 : 0; }
        using var qg = Bf16(gpu, q); using var kg = Bf16(gpu, k); using var vg = Bf16(gpu, v);
        using var qc = F32(cpu, q); using var kc = F32(cpu, k); using var vc = F32(cpu, v);
        using var mg = gpu.Allocate(DType.I32, mask.Length, MemoryCategory.Workspace); gpu.Upload<int>(mg, mask);
        using var mc = cpu.Allocate(DType.I32, mask.Length, MemoryCategory.Workspace); cpu.Upload<int>(mc, mask);
        using var og = gpu.Allocate(DType.BF16, q.Length, MemoryCategory.Workspace);
        using var oc = cpu.Allocate(DType.F32, q.Length, MemoryCategory.Workspace);
        gpu.CausalAttention(qg, kg, vg, mg, og, batch, seq, heads, kvHeads, headDim, window);
        cpu.CausalAttention(qc, kc, vc, mc, oc, batch, seq, heads, kvHeads, headDim, window);
        var expected = new float[q.Length]; cpu.Download<float>(oc, expected);
        var raw = new byte[q.Length * 2]; gpu.Download<byte>(og, raw);
        var actual = new float[q.Length]; DTypes.ToSingle(DType.BF16, raw, actual);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / (Math.Abs(expected[i]) + 0.02));
        int zeroRows = Enumerable.Range(0, Math.Min(45, seq))
            .Count(i => actual.AsSpan(((2 * seq + i) * heads) * headDim, heads * headDim).ToArray().All(x => x == 0f));
        output.WriteLine($"b{batch}×{seq}, {heads}/{kvHeads} heads, hd {headDim}, window {window}: " +
            $"max |gpu − cpu| / (|cpu| + 0.02) = {worst:E2}; {zeroRows}/{Math.Min(45, seq)} left-padded rows are 0");
        Assert.True(worst < 0.05, $"relative difference {worst}");
        Assert.Equal(Math.Min(45, seq), zeroRows);
    }

    static float[] Random(int count, int seed, float scale)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => BFloat16.ToSingle(BFloat16.FromSingle((float)(random.NextDouble() * 2 - 1) * scale))).ToArray();
    }

    static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => BFloat16.ToSingle(BFloat16.FromSingle((float)(random.NextDouble() * 2 - 1)))).ToArray();
    }
}
