using System.Text.Json.Nodes;
using Qzo.Diffusion.Pipelines;

namespace Qzo.Tests.Diffusion;

public class Sd3PipelineFolderTests
{
    /// <summary>model_index.json as stabilityai/stable-diffusion-3.5-large ships it (its component entries).</summary>
    const string Large = """
        {"_class_name": "StableDiffusion3Pipeline", "_diffusers_version": "0.31.0.dev0",
         "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
         "text_encoder": ["transformers", "CLIPTextModelWithProjection"],
         "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
         "text_encoder_3": ["transformers", "T5EncoderModel"],
         "tokenizer": ["transformers", "CLIPTokenizer"], "tokenizer_2": ["transformers", "CLIPTokenizer"],
         "tokenizer_3": ["transformers", "T5TokenizerFast"],
         "transformer": ["diffusers", "SD3Transformer2DModel"], "vae": ["diffusers", "AutoencoderKL"],
         "image_encoder": [null, null], "feature_extractor": [null, null]}
        """;

    static void Write(TempFolder folder, string index, params string[] skip)
    {
        File.WriteAllText(Path.Combine(folder.Path, "model_index.json"), index);
        foreach (var (key, _) in JsonNode.Parse(index)!.AsObject())
            if (!key.StartsWith('_') && !skip.Contains(key)) Directory.CreateDirectory(Path.Combine(folder.Path, key));
    }

    [Fact]
    public void TheHubLayoutOpensWithEveryComponent()
    {
        using var folder = new TempFolder();
        Write(folder, Large);
        var pipeline = Sd3PipelineFolder.Open(folder.Path);
        Assert.Equal(Path.Combine(folder.Path, "transformer"), pipeline.Transformer);
        Assert.Equal(Path.Combine(folder.Path, "text_encoder_3"), pipeline.TextEncoder3);
        Assert.Equal(Path.Combine(folder.Path, "tokenizer_2"), pipeline.Tokenizer2);
    }

    [Fact]
    public void T5MayBeAbsent()
    {
        using var folder = new TempFolder();
        Write(folder, Large.Replace("""["transformers", "T5EncoderModel"]""", "[null, null]")
                           .Replace("""["transformers", "T5TokenizerFast"]""", "[null, null]"), "text_encoder_3", "tokenizer_3");
        var pipeline = Sd3PipelineFolder.Open(folder.Path);
        Assert.Null(pipeline.TextEncoder3);
        Assert.Null(pipeline.Tokenizer3);
    }

    [Theory]
    [InlineData("StableDiffusion3Pipeline", "StableDiffusionXLPipeline", null, "pipeline 'StableDiffusionXLPipeline'")]
    [InlineData("\"SD3Transformer2DModel\"", "\"FluxTransformer2DModel\"", null, "'transformer' is a FluxTransformer2DModel")]
    [InlineData("\"vae\": [\"diffusers\", \"AutoencoderKL\"],", "", null, "component 'vae' is missing")]
    [InlineData("x", "x", "vae", "the folder of 'vae' is missing")]
    [InlineData("[\"transformers\", \"T5TokenizerFast\"]", "[null, null]", null, "both present or both null")]
    public void WhatCannotBeReadIsNamed(string from, string to, string? missingFolder, string expected)
    {
        using var folder = new TempFolder();
        Write(folder, Large.Replace(from, to), missingFolder is null ? [] : [missingFolder]);
        var error = Assert.Throws<QzoException>(() => Sd3PipelineFolder.Open(folder.Path));
        Assert.Contains(expected, error.Message);
    }
}
