using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Qzo.Diffusion.Pipelines;
using Qzo.IO;
using Qzo.Tests.Encoders;

namespace Qzo.Tests.Cli;

/// <summary>`qzo inspect` of a diffusers pipeline folder and of one component folder, dense and bitsandbytes 4-bit.</summary>
public sealed class PipelineInspectTests(SynthesizedSd3Cli sd3) : IClassFixture<SynthesizedSd3Cli>
{
    [Fact]
    public void InspectNamesEveryComponentOfModelIndexWithItsClassAndTheTransformerConfig()
    {
        Assert.True(sd3.SynthExitCode == 0, sd3.Synth);
        string stdout = CliProcess.Ok("inspect", sd3.Pipeline).Stdout;
        var lines = stdout.Split('\n');
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(sd3.Pipeline, Sd3PipelineFolder.IndexFileName)))!.AsObject();
        Assert.Contains("StableDiffusion3Pipeline", lines[0]);
        foreach (var (key, value) in index.Where(p => !p.Key.StartsWith('_')))
        {
            string className = value![1]?.GetValue<string>() ?? "none";
            Assert.Single(lines, l => Regex.IsMatch(l, $@"^  {Regex.Escape(key)} +{Regex.Escape(className)}\b"));
        }
        foreach (var key in new[] { "transformer", "vae", "text_encoder", "text_encoder_2", "text_encoder_3" })
            Assert.Matches(@"BF16 +[\d,]+ parameters +[\d.]+ (B|KiB|MiB) +dense$", lines.Single(l => l.StartsWith($"  {key} ")));

        // The synthesizer's own count of the pipeline's parameters is the total.
        string synthCount = Regex.Match(sd3.Synth, @"; ([\d,]+) parameters").Groups[1].Value;
        Assert.NotEmpty(synthCount);
        Assert.Matches($@"^  total +{Regex.Escape(synthCount)} parameters", lines.Single(l => l.StartsWith("  total ")));

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(sd3.Pipeline, "transformer", "config.json")))!;
        Assert.Matches($@"│ num_layers +│ {(int)config["num_layers"]!} +│", stdout);
        Assert.Matches($@"│ attention_head_dim × num_attention_heads +│ {(int)config["attention_head_dim"]!} × " +
                       $@"{(int)config["num_attention_heads"]!} ", stdout);
    }

    [Fact]
    public void InspectOfOneComponentFolderShowsThatComponent()
    {
        string stdout = CliProcess.Ok("inspect", Path.Combine(sd3.Pipeline, "text_encoder_3")).Stdout;
        Assert.Matches(@"(?m)^  text_encoder_3 +T5EncoderModel +BF16 +[\d,]+ parameters .* dense$", stdout);
        Assert.DoesNotContain("num_layers", stdout);
        Assert.Contains("│ num_layers", CliProcess.Ok("inspect", Path.Combine(sd3.Pipeline, "transformer")).Stdout);
    }

    [Fact]
    public void InspectShowsABitsandbytesEncoderAndCountsItsOriginalWeights()
    {
        using var temp = new TempFolder();
        string pipeline = temp["sd3"];
        Directory.CreateDirectory(pipeline);
        OutputFolder.CopyContents(sd3.Pipeline, pipeline, relative => relative.StartsWith("text_encoder" + Path.DirectorySeparatorChar));
        var linears = LinearsOf(Path.Combine(sd3.Pipeline, "text_encoder"));
        EncoderQuantization.Nf4(Path.Combine(sd3.Pipeline, "text_encoder"), Path.Combine(pipeline, "text_encoder"), linears,
                                doubleQuant: true);

        var dense = PipelineInspection.Of(sd3.Pipeline).Components.Single(c => c.Key == "text_encoder");
        var quantized = PipelineInspection.Of(pipeline).Components.Single(c => c.Key == "text_encoder");
        Assert.Equal("bitsandbytes nf4 (double quant)", quantized.Quantization);
        Assert.Equal(linears.Count, quantized.QuantizedLinears);
        Assert.Equal(dense.Parameters, quantized.Parameters);
        Assert.True(quantized.BytesOnDisk < dense.BytesOnDisk, $"{quantized.BytesOnDisk} ≥ {dense.BytesOnDisk}");

        string stdout = CliProcess.Ok("inspect", pipeline).Stdout;
        Assert.Matches($@"(?m)^  text_encoder +CLIPTextModelWithProjection +BF16 +{dense.Parameters:N0} parameters +[\d.]+ KiB +" +
                       $@"bitsandbytes nf4 \(double quant\), {linears.Count} linears$", stdout);
        Assert.Matches(@"(?m)^  text_encoder_2 +CLIPTextModelWithProjection .* dense$", stdout);
    }

    [Fact]
    public void InspectOfAQuantizedPipelineKeepsEachComponentsParameterCount()
    {
        using var temp = new TempFolder();
        CliProcess.Ok("quantize", sd3.Pipeline, temp["q"], "--method", "nf4");
        var dense = PipelineInspection.Of(sd3.Pipeline).Components;
        var quantized = PipelineInspection.Of(temp["q"]).Components;
        Assert.Equal(dense.Select(c => (c.Key, c.ClassName, c.Parameters)), quantized.Select(c => (c.Key, c.ClassName, c.Parameters)));
        using var transformer = SafetensorsFile.Open(Path.Combine(sd3.Pipeline, "transformer", CheckpointTensors.DiffusersFileName));
        int linears = transformer.Tensors.Count(t => t.Shape.Length == 2);
        Assert.Matches($@"(?m)^  transformer +SD3Transformer2DModel +BF16 +[\d,]+ parameters +[\d.]+ KiB +" +
                       $@"bitsandbytes nf4, {linears} linears$", CliProcess.Ok("inspect", temp["q"]).Stdout);
        Assert.All(quantized.Where(c => c.Key != "transformer"), c => Assert.True(c.Quantization is null or "dense", c.Key));
    }

    [Fact]
    public void DequantizeOfAPipelineIsRefusedWithOneLineAndWritesNothing()
    {
        using var temp = new TempFolder();
        var r = CliProcess.Run("inspect", sd3.Pipeline, "--dequantize", temp["dump.safetensors"]);
        CliAssert.FailsWithOneLine(r, "--dequantize applies to a language-model checkpoint");
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    /// <summary>The nn.Linear weights of a CLIP text encoder: every 2-D weight but the two embedding tables.</summary>
    static List<string> LinearsOf(string folder)
    {
        using var file = SafetensorsFile.Open(Path.Combine(folder, CheckpointTensors.SingleFileName));
        return file.Tensors.Where(t => t.Shape.Length == 2 && t.Name.EndsWith(".weight") && !t.Name.Contains("embedding"))
                   .Select(t => t.Name[..^".weight".Length]).ToList();
    }
}
