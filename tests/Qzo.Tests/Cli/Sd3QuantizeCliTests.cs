using System.Text.Json.Nodes;
using Qzo.Tests.Models;

namespace Qzo.Tests.Cli;

/// <summary>`qzo quantize --method nf4` on a synthesized SD3 pipeline and on one of its component folders, end to end.</summary>
public sealed class Sd3QuantizeCliTests(SynthesizedSd3Cli sd3) : IClassFixture<SynthesizedSd3Cli>
{
    /// <summary>The output with line breaks and runs of spaces made single spaces (tables and long lines wrap).</summary>
    static string Words(string text) => string.Join(' ', text.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));

    static JsonObject? QuantizationConfig(string component) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(component, "config.json")))!["quantization_config"] as JsonObject;

    [Fact]
    public void QuantizesTheTransformerByDefaultAndImagineRunsOnTheResult()
    {
        using var temp = new TempFolder();
        string output = temp["nf4"];
        var run = Words(CliProcess.Ok("quantize", sd3.Pipeline, output, "--method", "nf4").Stdout);
        Assert.Contains("bitsandbytes nf4, block 64", run);
        Assert.Contains("transformer: relative reconstruction error ‖W − Ŵ‖/‖W‖ over 50 linears: mean 0.09", run);
        Assert.DoesNotContain("text_encoder:", run);
        Assert.Equal("nf4", (string)QuantizationConfig(Path.Combine(output, "transformer"))!["bnb_4bit_quant_type"]!);
        foreach (var other in new[] { "text_encoder", "text_encoder_2", "text_encoder_3", "vae" })
        {
            Assert.Null(QuantizationConfig(Path.Combine(output, other)));
            Assert.Equal(File.ReadAllBytes(Path.Combine(sd3.Pipeline, other, "config.json")),
                         File.ReadAllBytes(Path.Combine(output, other, "config.json")));
        }

        var images = temp["images"];
        var r = CliProcess.Ok("imagine", output, "--prompt", "a red fox", "--size", "64", "--steps", "2", "--seed", "1",
                              "--out", images, "--device", "cpu");
        Assert.Contains("1 image(s) on cpu", r.Stdout);
        Assert.Equal((64, 64), Png.Size(Path.Combine(images, "000-seed1.png")));
    }

    [Fact]
    public void ComponentsAndTheFourBitOptionsChooseWhatIsQuantizedAndHow()
    {
        using var temp = new TempFolder();
        string output = temp["fp4"];
        var run = Words(CliProcess.Ok("quantize", sd3.Pipeline, output, "--method", "nf4", "--components", "text_encoder_3, transformer",
                                      "--quant-type", "fp4", "--block-size", "128").Stdout);
        Assert.Contains("text_encoder_3: relative reconstruction error ‖W − Ŵ‖/‖W‖ over 12 linears (2 more kept dense, as transformers " +
                        "keeps them)", run); // T5's wo
        foreach (var component in new[] { "transformer", "text_encoder_3" })
        {
            var config = QuantizationConfig(Path.Combine(output, component))!;
            Assert.Equal(("fp4", false), ((string)config["bnb_4bit_quant_type"]!, (bool)config["bnb_4bit_use_double_quant"]!));
        }
        Assert.Null(QuantizationConfig(Path.Combine(output, "vae")));

        // One component folder on its own: the same layout, the folder's other files copied.
        var single = Words(CliProcess.Ok("quantize", Path.Combine(sd3.Pipeline, "text_encoder"), temp["clip"], "--method", "nf4",
                                         "--double-quant").Stdout);
        Assert.Contains("over 12 linears", single);
        Assert.True(QuantizationConfig(temp["clip"])!["bnb_4bit_use_double_quant"]!.GetValue<bool>());
        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(temp["clip"]).Select(Path.GetFileName).Order());

        var help = Words(CliProcess.Ok("quantize", "--help").Stdout);
        Assert.Contains("--components", help);
        Assert.Contains("default: transformer only", help);
    }

    [Theory]
    [InlineData("not-diffusers", "config.json")]
    [InlineData("unknown-component", "'unet'")]
    [InlineData("absent-t5", "no text_encoder_3")]
    [InlineData("bits", "--bits does not apply to a diffusers folder")]
    [InlineData("method", "--method gptq applies to language-model checkpoints")]
    [InlineData("components-of-a-component", "--components applies to a pipeline folder")]
    [InlineData("block-size", "block size 48")]
    [InlineData("already-quantized", "already quantized")]
    public void RefusesBadInputWithOneLineAndWritesNothing(string problem, string mentioned)
    {
        using var temp = new TempFolder();
        string input = sd3.Pipeline, output = temp["out"];
        string[] extra = [];
        switch (problem)
        {
            case "not-diffusers": input = Path.Combine(sd3.Pipeline, "tokenizer"); break;
            case "unknown-component": extra = ["--components", "transformer,unet"]; break;
            case "absent-t5":
                input = temp["no-t5"];
                CliProcess.Ok("synth", "--architecture", "sd3", "--no-t5", "--out", input);
                extra = ["--components", "text_encoder_3"];
                break;
            case "bits": extra = ["--bits", "3"]; break;
            case "method": extra = ["--method", "gptq"]; break;
            case "components-of-a-component":
                input = Path.Combine(sd3.Pipeline, "vae");
                extra = ["--components", "vae"];
                break;
            case "block-size": extra = ["--block-size", "48"]; break;
            case "already-quantized":
                input = temp["once"];
                CliProcess.Ok("quantize", Path.Combine(sd3.Pipeline, "transformer"), input, "--method", "nf4");
                break;
        }
        string[] method = extra.Contains("--method") ? [] : ["--method", "nf4"];
        CliAssert.FailsWithOneLine(CliProcess.Run(["quantize", input, output, .. method, .. extra]), mentioned);
        Assert.False(Directory.Exists(output));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(temp.Path), p => p.Contains(".tmp-", StringComparison.Ordinal));
    }

    [Fact]
    public void ComponentsIsRefusedForALanguageModel()
    {
        using var temp = new TempFolder();
        string dense = TinyModels.Dense(temp);
        CliAssert.FailsWithOneLine(CliProcess.Run("quantize", dense, temp["q"], "--method", "nf4", "--components", "transformer"),
                                   "--components applies to a diffusers pipeline folder");
        Assert.False(Directory.Exists(temp["q"]));
    }
}
