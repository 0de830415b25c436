using System.Text.Json;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Schedulers;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.Encoders.Clip;
using Qzo.Encoders.T5;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Text;

namespace Qzo.Tests.Diffusion;

/// <summary>The tiny pipeline the tests share, synthesized once (about a second).</summary>
public sealed class TinySd3Pipeline : IDisposable
{
    readonly TempFolder _folder = new();
    public string Path => _folder["sd3"];
    public Sd3SynthSummary Summary { get; }

    public TinySd3Pipeline() => Summary = Sd3PipelineSynthesis.Write(Path, new Sd3SynthOptions { Seed = 7 });

    public void Dispose() => _folder.Dispose();
}

/// <summary>
/// Sd3PipelineSynthesis: the folder diffusers would save, every component loading with its own loader, and
/// Sd3Pipeline.Generate drawing guided images from it on the CPU backend.
/// </summary>
public sealed class Sd3PipelineSynthesisTests(TinySd3Pipeline tiny) : IClassFixture<TinySd3Pipeline>
{
    [Fact]
    public void ModelIndexIsWhatDiffusersWritesForSd3()
    {
        string expected = """
            {
              "_class_name": "StableDiffusion3Pipeline",
              "_diffusers_version": "0.39.0",
              "feature_extractor": [
                null,
                null
              ],
              "image_encoder": [
                null,
                null
              ],
              "scheduler": [
                "diffusers",
                "FlowMatchEulerDiscreteScheduler"
              ],
              "text_encoder": [
                "transformers",
                "CLIPTextModelWithProjection"
              ],
              "text_encoder_2": [
                "transformers",
                "CLIPTextModelWithProjection"
              ],
              "text_encoder_3": [
                "transformers",
                "T5EncoderModel"
              ],
              "tokenizer": [
                "transformers",
                "CLIPTokenizer"
              ],
              "tokenizer_2": [
                "transformers",
                "CLIPTokenizer"
              ],
              "tokenizer_3": [
                "transformers",
                "T5TokenizerFast"
              ],
              "transformer": [
                "diffusers",
                "SD3Transformer2DModel"
              ],
              "vae": [
                "diffusers",
                "AutoencoderKL"
              ]
            }

            """;
        Assert.Equal(expected, File.ReadAllText(Path.Combine(tiny.Path, "model_index.json")));
        string scheduler = File.ReadAllText(Path.Combine(tiny.Path, "scheduler", "scheduler_config.json"));
        Assert.Contains("\"shift\": 3.0,", scheduler);
        var config = FlowMatchEulerConfig.Read(Path.Combine(tiny.Path, "scheduler", "scheduler_config.json"));
        Assert.Equal((1000, 3.0, false), (config.TrainTimesteps, config.Shift, config.DynamicShifting));
        Assert.Equal(["model_index.json", "scheduler", "text_encoder", "text_encoder_2", "text_encoder_3", "tokenizer", "tokenizer_2",
                      "tokenizer_3", "transformer", "vae"],
                     Directory.GetFileSystemEntries(tiny.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryComponentLoadsWithItsLoaderAndTheShapesFitTogether()
    {
        var folder = Sd3PipelineFolder.Open(tiny.Path);
        using var backend = new CpuBackend();
        var clipTokenizer = Tokenizer.Load(folder.Tokenizer);
        var bigGTokenizer = Tokenizer.Load(folder.Tokenizer2);
        var t5Tokenizer = Tokenizer.Load(folder.Tokenizer3!);
        Assert.Equal(tiny.Summary.ClipVocab, clipTokenizer.VocabSize);
        Assert.Equal(0, bigGTokenizer.PadId);
        Assert.Equal(tiny.Summary.T5Vocab, t5Tokenizer.VocabSize);

        int width = 0, projection = 0;
        foreach (var (path, act) in new[] { (folder.TextEncoder, "quick_gelu"), (folder.TextEncoder2, "gelu") })
        {
            using var clip = ClipTextLoader.Load(path, backend);
            Assert.Empty(clip.UnusedTensors);
            Assert.Equal(act, clip.Config.HiddenAct);
            Assert.Equal(clipTokenizer.VocabSize, clip.Config.VocabSize);
            Assert.Equal(clipTokenizer.EosId, clip.Config.EosTokenId);
            width += clip.Config.HiddenSize;
            projection += clip.Config.ProjectionDim;
        }
        using var t5 = T5EncoderLoader.Load(folder.TextEncoder3!, backend);
        Assert.Empty(t5.UnusedTensors);
        Assert.Equal(t5Tokenizer.VocabSize, t5.Config.VocabSize);
        using var transformer = Sd3Transformer.Load(folder.Transformer, backend);
        var c = transformer.Config;
        Assert.True(width < t5.Config.DModel, "CLIP's features are zero-padded to T5's width");
        Assert.Equal(t5.Config.DModel, c.JointAttentionDim);
        Assert.Equal(projection, c.PooledProjectionDim);
        Assert.Equal(c.Heads * c.HeadDim, c.CaptionProjectionDim);
        Assert.Contains(0, c.DualAttentionLayers);
        using var vae = AutoencoderKL.Load(folder.Vae, backend);
        Assert.Equal(8, VaeConfig.Load(Path.Combine(folder.Vae, "config.json")).DownscaleFactor);
        Assert.Equal(64, Sd3PipelinePreset.Tiny.DefaultImageSize);
        using (var weights = CheckpointTensors.Open(folder.Transformer))
            Assert.All(weights.Names, n => Assert.Equal(DType.BF16, weights.Get(n).DType));
        long written = Directory.EnumerateFiles(tiny.Path, "*.safetensors", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.InRange(written, tiny.Summary.WeightBytes, tiny.Summary.WeightBytes + 200_000);
    }

    static ImagineSettings TwoPrompts(ulong seed) => new()
    {
        Prompts = ["a red fox in the snow", "a lighthouse on a rocky coast"], Steps = 3, Guidance = 4, Width = 64, Height = 64,
        Seed = seed, MaxSequenceLength = 32,
    };

    [Fact]
    public void GeneratesGuidedImagesThatFollowThePromptAndTheSeed()
    {
        var folder = Sd3PipelineFolder.Open(tiny.Path);
        using var backend = new CpuBackend();
        var first = Sd3Pipeline.Generate(folder, backend, TwoPrompts(1));
        Assert.Equal(2, first.Images.Count);
        foreach (var image in first.Images)
        {
            Assert.Equal((64, 64), (image.Width, image.Height));
            Assert.All(image.Planes, v => Assert.InRange(v, 0f, 1f));
            Assert.True(image.Planes.Count(v => v is > 0f and < 1f) > image.Planes.Length / 2, "most pixels saturate");
        }
        Assert.All(first.FinalLatents, v => Assert.True(float.IsFinite(v)));
        Assert.NotEqual(first.Images[0].Planes, first.Images[1].Planes);

        var again = Sd3Pipeline.Generate(folder, backend, TwoPrompts(1));
        Assert.Equal(first.Images[0].Planes, again.Images[0].Planes);
        Assert.Equal(first.Images[1].Planes, again.Images[1].Planes);
        var otherSeed = Sd3Pipeline.Generate(folder, backend, TwoPrompts(2));
        Assert.NotEqual(first.Images[0].Planes, otherSeed.Images[0].Planes);
    }

    [Fact]
    public void WithoutT5TheIndexNamesNoneAndTheImageStillComes()
    {
        using var temp = new TempFolder();
        Sd3PipelineSynthesis.Write(temp["sd3"], new Sd3SynthOptions { WithT5 = false, DType = DType.F32 });
        Assert.Contains("\"text_encoder_3\": [\n    null,\n    null\n  ]", File.ReadAllText(temp["sd3/model_index.json"]));
        Assert.False(Directory.Exists(temp["sd3/text_encoder_3"]) || Directory.Exists(temp["sd3/tokenizer_3"]));
        var folder = Sd3PipelineFolder.Open(temp["sd3"]);
        Assert.Null(folder.TextEncoder3);
        using (var weights = CheckpointTensors.Open(folder.Vae))
            Assert.All(weights.Names, n => Assert.Equal(DType.F32, weights.Get(n).DType));
        using var backend = new CpuBackend();
        var result = Sd3Pipeline.Generate(folder, backend, TwoPrompts(1) with { Prompts = ["a red fox"], Steps = 2 });
        Assert.All(result.FinalLatents, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void TheSameSeedWritesTheSameWeights()
    {
        using var temp = new TempFolder();
        Sd3PipelineSynthesis.Write(temp["a"], new Sd3SynthOptions { Seed = 7 });
        Sd3PipelineSynthesis.Write(temp["b"], new Sd3SynthOptions { Seed = 8 });
        foreach (var file in new[] { "transformer/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors",
                                     "text_encoder_3/model.safetensors", "vae/diffusion_pytorch_model.safetensors" })
        {
            var same = File.ReadAllBytes(temp["a/" + file]);
            Assert.Equal(same, File.ReadAllBytes(Path.Combine(tiny.Path, file)));
            Assert.NotEqual(same, File.ReadAllBytes(temp["b/" + file]));
        }
        // The two CLIP towers get seeds of their own, not the same draws at different widths.
        using var l = SafetensorsFile.Open(temp["a/text_encoder/model.safetensors"]);
        using var g = SafetensorsFile.Open(temp["a/text_encoder_2/model.safetensors"]);
        const string bias = "text_model.final_layer_norm.bias";
        Assert.NotEqual(l.GetBytes(bias)[..32].ToArray(), g.GetBytes(bias)[..32].ToArray());
    }

    [Fact]
    public void TheRealPresetsHaveSd35sShapes()
    {
        foreach (var preset in new[] { Sd3PipelinePreset.Medium, Sd3PipelinePreset.Large })
        {
            preset.Validate();
            Assert.Equal(1024, preset.DefaultImageSize);
        }
        // The Hub's SD3.5 Large transformer index: total_size 16,292,561,536 bytes of bf16.
        Assert.Equal(16_292_561_536L / 2, Parameters(Sd3TransformerSynthesis.Tensors(Sd3PipelinePreset.Large.Transformer)
                                                         .Select(t => t.Shape)));
        Assert.Equal(13, Sd3PipelinePreset.Medium.Transformer.DualAttentionLayers.Count);
        Assert.Equal((768, 1280, 4096), (Sd3PipelinePreset.Large.ClipL.HiddenSize, Sd3PipelinePreset.Large.ClipG.HiddenSize,
                                         Sd3PipelinePreset.Large.T5.DModel));
        Assert.Equal((49408, 32128), (Sd3PipelinePreset.Large.ClipVocab, Sd3PipelinePreset.Large.T5Vocab));
        Assert.Contains("not an SD3 preset", Assert.Throws<QzoException>(() => Sd3PipelinePreset.Get("huge")).Message);
    }

    static long Parameters(IEnumerable<long[]> shapes) => shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b));

    [Fact]
    public void ARealPresetIsRefusedUpFrontWhenTheDiskCannotHoldIt()
    {
        using var temp = new TempFolder();
        QzoException error;
        using (ResourceBudget.Limit(freeDisk: 10L << 30))
            error = Assert.Throws<QzoException>(() =>
                Sd3PipelineSynthesis.Write(temp["large"], new Sd3SynthOptions { Preset = Sd3PipelinePreset.Large }));
        Assert.StartsWith("synth: the SD3 pipeline 'large' would take 2", error.Message);
        Assert.Contains("GiB", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    /// <summary>
    /// transformers 5.17 validates configs strictly (a float field given the integer 1 is refused), so every value the
    /// synthesized text encoders share with a config transformers saved itself (the parity fixtures) is the same JSON kind,
    /// integer or float literal.
    /// </summary>
    [Theory]
    [InlineData("text_encoder", "clip-l-fp32")]
    [InlineData("text_encoder_2", "clip-g-fp32")]
    [InlineData("text_encoder_3", "t5-fp32")]
    public void TextEncoderConfigsWriteNumbersAsTransformersDoes(string component, string fixture)
    {
        var ours = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(tiny.Path, component, "config.json"))).RootElement;
        var saved = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(Sd3Fixtures.Case(fixture), "model", "config.json")))
            .RootElement;
        static bool IsFloatLiteral(JsonElement e) => e.GetRawText().IndexOfAny(['.', 'e', 'E']) >= 0;
        int compared = 0;
        foreach (var property in saved.EnumerateObject())
        {
            if (!ours.TryGetProperty(property.Name, out var value)) continue;
            static JsonValueKind Kind(JsonElement e) => e.ValueKind == JsonValueKind.False ? JsonValueKind.True : e.ValueKind;
            Assert.True(Kind(property.Value) == Kind(value), $"{component}/config.json {property.Name}: {value.ValueKind}, " +
                                                             $"transformers writes {property.Value.ValueKind}");
            if (value.ValueKind == JsonValueKind.Number)
            {
                Assert.True(IsFloatLiteral(property.Value) == IsFloatLiteral(value),
                            $"{component}/config.json {property.Name}: {value.GetRawText()}, " +
                            $"transformers writes {property.Value.GetRawText()}");
                compared++;
            }
        }
        Assert.True(compared >= 8, $"only {compared} numbers compared");
    }
}
