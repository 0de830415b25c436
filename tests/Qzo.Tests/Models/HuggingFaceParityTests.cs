using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Architectures.LlamaLayout;
using Xunit.Abstractions;

namespace Qzo.Tests.Models;

/// <summary>
/// Our CPU forward pass against Hugging Face transformers 5.17 on small random models that transformers itself
/// saved with save_pretrained: Llama (tests/oracle/llama_reference.py → tests/fixtures/hf-llama) and Mistral,
/// Qwen2 and OPT (tests/oracle/architectures_reference.py → tests/fixtures/hf-arch, one test per folder there),
/// each run once on the device. fp32 throughout; the fp64 runs of the same models show how far transformers'
/// own fp32 arithmetic is from exact.
/// </summary>
public class HuggingFaceParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("llama3-gqa-bf16")]
    [InlineData("llama2-tied-fp32")]
    public void LossAndLogitsMatchTransformers(string name)
    {
        string folder = TestPaths.Fixture("hf-llama", name);
        var reference = HuggingFaceFixture.Load(folder);
        using var checkpoint = Checkpoint.Open(folder);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        Assert.Empty(model.UnusedTensors);
        CheckRopeFrequencies(checkpoint, reference);
        HuggingFaceChecks.CheckBatch(model, reference.RightPadding, name, output);
    }

    public static IEnumerable<object[]> ArchitectureFixtures() => ArchitectureFixtureNames().Select(n => new object[] { n });

    public static IReadOnlyList<string> ArchitectureFixtureNames()
    {
        string root = TestPaths.Fixture("hf-arch");
        return Directory.Exists(root)
            ? Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, "reference.json"))).Select(d => Path.GetFileName(d))
                .Order(StringComparer.Ordinal).ToList()
            : [];
    }

    [Fact]
    public void EveryArchitectureHasItsOracleFixture() =>
        Assert.Equal(["gemma3-bf16", "gemma3-multimodal-fp32", "gemma3-softcap-fp32", "mistral-window-gqa-bf16", "opt-postnorm-untied-bf16",
                      "opt-prenorm-project-fp32", "qwen2-bias-tied-fp32", "qwen3-bias-window-bf16", "qwen3-qknorm-headdim-tied-fp32"],
                     ArchitectureFixtureNames());

    [Theory, MemberData(nameof(ArchitectureFixtures))]
    public void ArchitecturesMatchTransformersPaddedEitherSideAndGenerateAlike(string name)
    {
        string folder = TestPaths.Fixture("hf-arch", name);
        var reference = HuggingFaceFixture.Load(folder);
        using var checkpoint = Checkpoint.Open(folder);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        output.WriteLine($"{name}: {checkpoint.Config.Architecture.ClassName}");
        Assert.Empty(model.UnusedTensors);
        CheckRopeFrequencies(checkpoint, reference);
        double scale = HuggingFaceChecks.CheckBatch(model, reference.RightPadding, "right padding", output);
        HuggingFaceChecks.CheckBatch(model, reference.left_padding ?? throw new Exception("reference.json has no left_padding batch"),
            "left padding", output);
        HuggingFaceChecks.CheckGeneration(model, reference, scale, output);
    }

    static void CheckRopeFrequencies(Checkpoint checkpoint, HuggingFaceFixture reference)
    {
        if (checkpoint.Config is not LlamaConfig config) return;
        var expected = reference.inv_freq ?? throw new Exception("reference.json has no inv_freq for a RoPE model");
        var inv = config.Rope.InverseFrequencies(config.HeadDim);
        Assert.Equal(expected.Length, inv.Length);
        for (int i = 0; i < inv.Length; i++) Assert.Equal(expected[i], inv[i], expected[i] * 2e-6f);
    }
}
