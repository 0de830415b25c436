using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.Models;
using Qzo.Models.Architectures;

namespace Qzo.Tests.Models;

/// <summary>
/// The whole forward pass on the GPU backend (bf16 activations; here on ILGPU's CPU accelerator) against the
/// CPU backend (fp32). Tolerance: bf16 keeps 8 significant bits, so logits of spread ~4 differ by a few 1e-2
/// after two layers; the mean loss by well under 1%.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class GpuForwardTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LossAndLogitsMatchTheCpuBackend(bool perturbed)
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Gptq(folder, bits: 4, groupSize: 32, tied: true));
        using var cpuBackend = new CpuBackend();
        using var gpuBackend = TestBackends.Gpu();
        using var cpu = ModelLoader.Load(checkpoint, cpuBackend, TrainingScope.QuantizationScales);
        using var gpu = ModelLoader.Load(checkpoint, gpuBackend, TrainingScope.QuantizationScales);
        var sequences = new[] { TinyModels.RandomIds(11, 320, 1), TinyModels.RandomIds(6, 320, 2) };
        var batch = TokenBatch.Pad(sequences.Select(s => (s, Enumerable.Repeat(true, s.Length).ToArray())).ToList(), padId: 0);
        var p = perturbed ? new Perturbation(77, 0.01f) : Perturbation.None;

        var expected = cpu.Loss(batch, p);
        var actual = gpu.Loss(batch, p);
        Assert.Equal(expected.Count, actual.Count);
        Assert.True(Math.Abs(actual.Mean - expected.Mean) < 0.01 * expected.Mean, $"loss {actual.Mean} vs {expected.Mean}");

        var positions = Enumerable.Range(0, batch.Seq).ToArray();
        var expectedLogits = cpu.Logits(batch, positions, p);
        var actualLogits = gpu.Logits(batch, positions, p);
        double scale = expectedLogits.SelectMany(r => r).Max(v => Math.Abs(v));
        double worst = expectedLogits.Zip(actualLogits, (e, a) => e.Zip(a, (x, y) => Math.Abs(x - y)).Max()).Max();
        Assert.True(worst < 0.02 * scale, $"logits differ by {worst} at scale {scale}");
    }

    [Theory]
    [InlineData("mistral")]
    [InlineData("opt")]
    [InlineData("gemma3_text")]
    [InlineData("qwen3")]
    public void OtherArchitecturesMatchTheCpuBackend(string modelType)
    {
        var architecture = ArchitectureRegistry.Get(modelType);
        // Mistral's window (4) is shorter than the sequences; OPT runs LayerNorm, ReLU, learned positions, project_in/out;
        // Gemma 3 its (1 + weight) norms, tanh-GELU, scaled embeddings, local and global layers and query_pre_attn_scalar;
        // Qwen3 its per-head q/k RMSNorm.
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Quantized(folder, TinyModels.Dense(folder, architecture, "m")));
        using var cpuBackend = new CpuBackend();
        using var gpuBackend = TestBackends.Gpu();
        using var cpu = ModelLoader.Load(checkpoint, cpuBackend, TrainingScope.QuantizationScales);
        using var gpu = ModelLoader.Load(checkpoint, gpuBackend, TrainingScope.QuantizationScales);
        var batch = TinyModels.PadLeft([TinyModels.RandomIds(11, 320, 1), TinyModels.RandomIds(6, 320, 2)]);
        var p = new Perturbation(78, 0.01f);

        var expected = cpu.Loss(batch, p);
        var actual = gpu.Loss(batch, p);
        Assert.Equal(expected.Count, actual.Count);
        Assert.True(Math.Abs(actual.Mean - expected.Mean) < 0.01 * expected.Mean, $"loss {actual.Mean} vs {expected.Mean}");
        var positions = Enumerable.Range(batch.Seq, batch.Seq).Where(i => batch.AttentionMask[i] == 1).ToArray();
        var expectedLogits = cpu.Logits(batch, positions, p);
        var actualLogits = gpu.Logits(batch, positions, p);
        double scale = expectedLogits.SelectMany(r => r).Max(v => Math.Abs(v));
        double worst = expectedLogits.Zip(actualLogits, (e, a) => e.Zip(a, (x, y) => Math.Abs(x - y)).Max()).Max();
        Assert.True(worst < 0.02 * scale, $"logits differ by {worst} at scale {scale}");
    }

    [Fact]
    public void AnUpdateChangesTheSameScalesTheSameWay()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Gptq(folder));
        using var cpuBackend = new CpuBackend();
        using var gpuBackend = TestBackends.Gpu();
        using var cpu = ModelLoader.Load(checkpoint, cpuBackend, TrainingScope.QuantizationScales);
        using var gpu = ModelLoader.Load(checkpoint, gpuBackend, TrainingScope.QuantizationScales);
        var options = new Qzo.Training.ZoOptions { LearningRate = 1e-3f };
        new Qzo.Training.ZoStepper(new Qzo.Training.ParameterTrainableSet(cpu.Backend, cpu.Trainable), options).Apply(seed: 5, step: 2e-3);
        new Qzo.Training.ZoStepper(new Qzo.Training.ParameterTrainableSet(gpu.Backend, gpu.Trainable), options).Apply(seed: 5, step: 2e-3);
        for (int t = 0; t < cpu.Trainable.Count; t++)
            Assert.Equal(cpu.Trainable[t].Download(cpuBackend), gpu.Trainable[t].Download(gpuBackend));
    }
}
