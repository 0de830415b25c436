using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Numerics;

namespace Qzo.Tests.Models;

/// <summary>
/// Mistral, Qwen2 and OPT (fp32, fused kernels, padded batches) against <see cref="ReferenceLlama"/> and
/// <see cref="ReferenceOpt"/> (double, naive loops, one unpadded sequence at a time), with the tolerance of
/// <see cref="ForwardReferenceTests"/>. Left padding included: positions must come out as transformers makes them.
/// </summary>
public class ArchitectureForwardTests
{
    [Theory]
    [InlineData("mistral", false, false)]
    [InlineData("mistral", true, true)]
    [InlineData("qwen2", false, true)]
    [InlineData("qwen2", true, false)]
    [InlineData("opt", false, false)]
    [InlineData("opt", false, true)]
    [InlineData("opt", true, true)]
    [InlineData("qwen3", false, true)]
    [InlineData("qwen3", true, false)]
    [InlineData("gemma3_text", false, true)]
    [InlineData("gemma3_text", true, false)]
    public void ModelMatchesTheReference(string modelType, bool quantized, bool leftPadding)
    {
        var architecture = ArchitectureRegistry.Get(modelType);
        using var folder = new TempFolder();
        string path = TinyModels.Dense(folder, architecture, "m");
        if (quantized) path = TinyModels.Quantized(folder, path);
        Compare(path, leftPadding);
    }

    [Fact]
    public void MistralWindowChangesOnlyPositionsPastIt()
    {
        using var folder = new TempFolder();
        string windowed = TinyModels.Dense(folder, ArchitectureRegistry.Mistral, "windowed");
        string full = TinyModels.Dense(folder, ArchitectureRegistry.Mistral, "full", o => o with { SlidingWindow = null });
        var ids = TinyModels.RandomIds(10, 320, 5);
        var positions = Enumerable.Range(0, ids.Length).ToArray();
        var a = LogitsOf(windowed, ids, positions);
        var b = LogitsOf(full, ids, positions);
        for (int t = 0; t < ids.Length; t++)
        {
            double difference = a[t].Zip(b[t], (x, y) => Math.Abs(x - y)).Max();
            if (t < 4) Assert.Equal(0, difference); // window 4: query t < 4 sees every earlier key either way
            else Assert.True(difference > 1e-3, $"position {t}: the window changed nothing");
        }
    }

    [Fact]
    public void Qwen2SlidingWindowOnLayersFromMaxWindowLayers()
    {
        using var folder = new TempFolder();
        string path = TinyModels.Dense(folder, ArchitectureRegistry.Qwen2, "m");
        TinyModels.EditConfig(path, c => { c["use_sliding_window"] = true; c["sliding_window"] = 3; c["max_window_layers"] = 1; });
        using (var checkpoint = Checkpoint.Open(path))
            Assert.Equal([0, 3], ((LlamaConfig)checkpoint.Config).LayerWindows!);
        Compare(path, leftPadding: true);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void OptPostLayerNormUntiedWithoutProjection(bool noBiases, bool plainLayerNorms)
    {
        // opt-350m's layer order, plus enable_bias false and layer_norm_elementwise_affine false (their tensors removed).
        using var folder = new TempFolder();
        string path = TinyModels.Dense(folder, ArchitectureRegistry.Opt, "m",
            o => o with { PostLayerNorm = true, TieEmbeddings = false, WordEmbedDim = null });
        TinyModels.EditConfig(path, c => { c["enable_bias"] = !noBiases; c["layer_norm_elementwise_affine"] = !plainLayerNorms; });
        TinyModels.DropTensors(path, name => (noBiases && name.EndsWith("proj.bias") || name.EndsWith("fc1.bias") && noBiases
                                                 || name.EndsWith("fc2.bias") && noBiases)
                                             || (plainLayerNorms && name.Contains("layer_norm")));
        using (var checkpoint = Checkpoint.Open(path))
        {
            Assert.False(checkpoint.Tensors.Contains("model.decoder.final_layer_norm.weight")); // post-LN OPT has none
            Assert.Equal(noBiases, !checkpoint.Tensors.Contains("model.decoder.layers.0.fc1.bias"));
        }
        Compare(path, leftPadding: true);
    }

    [Fact]
    public void OptMezoPerturbationReachesEveryWeight()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Dense(folder, ArchitectureRegistry.Opt, "m"));
        var names = checkpoint.Tensors.Names.OrderBy(n => n, StringComparer.Ordinal).ToList();
        const ulong seed = 31; const float eps = 0.01f;
        var reference = new ReferenceOpt(checkpoint, (name, values) =>
            values.Select((v, i) => v + eps * GaussianDirection.Z(seed, names.IndexOf(name), i)).ToArray());
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.AllWeights);
        Assert.Equal(names, model.Trainable.Select(p => p.Name));
        Assert.Contains("model.decoder.embed_positions.weight", names);
        Assert.Contains("model.decoder.layers.0.self_attn_layer_norm.bias", names);
        ForwardReferenceTests.CompareOnBatch(model, reference, 320, new Perturbation(seed, eps), leftPadding: true);
    }

    [Fact]
    public void Qwen2QzoPerturbsScalesAndLeavesBiasesFrozen()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Quantized(folder, TinyModels.Dense(folder, ArchitectureRegistry.Qwen2, "m")));
        var scaleNames = checkpoint.Tensors.Names.Where(n => n.EndsWith(".scales")).OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.Equal(2 * 7, scaleNames.Count);
        const ulong seed = 8; const float eps = 0.01f;
        var reference = new ReferenceLlama(checkpoint, (name, values) =>
        {
            int t = scaleNames.IndexOf(name);
            return t < 0 ? values : values.Select((v, i) => v + eps * GaussianDirection.Z(seed, t, i)).ToArray();
        });
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        Assert.Equal(scaleNames, model.Trainable.Select(p => p.Name));
        double shift = ForwardReferenceTests.CompareOnBatch(model, reference, 320, new Perturbation(seed, eps));
        Assert.True(shift > 100 * ForwardReferenceTests.LogitTolerance, $"the perturbation moved the logits by only {shift}");
    }

    [Fact]
    public void OptRefusesSequencesLongerThanItsPositions()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Dense(folder, ArchitectureRegistry.Opt, "m"));
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        var ids = TinyModels.RandomIds(65, 320, 1); // max_position_embeddings 64
        var batch = TokenBatch.Pad([(ids, Enumerable.Repeat(true, ids.Length).ToArray())], padId: 0);
        var e = Assert.Throws<QzoException>(() => model.Loss(batch, Perturbation.None));
        Assert.Contains("max_position_embeddings", e.Message);
    }

    static void Compare(string path, bool leftPadding)
    {
        using var checkpoint = Checkpoint.Open(path);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        Assert.Empty(model.UnusedTensors);
        ForwardReferenceTests.CompareOnBatch(model, ReferenceModels.For(checkpoint), checkpoint.Config.VocabSize, leftPadding: leftPadding);
    }

    static float[][] LogitsOf(string path, int[] ids, int[] positions)
    {
        using var checkpoint = Checkpoint.Open(path);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        return model.Logits(TokenBatch.Pad([(ids, new bool[ids.Length])], padId: 0), positions);
    }
}
