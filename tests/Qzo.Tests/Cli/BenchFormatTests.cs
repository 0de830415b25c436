using System.Text.Json.Nodes;
using Qzo.Models;
using Qzo.Models.Architectures.Llama;
using Qzo.Models.Architectures.LlamaLayout;

namespace Qzo.Tests.Cli;

/// <summary>`qzo bench --format`: each format synthesizes, runs a QZO step, and accounts its device memory as the layout implies.</summary>
public class BenchFormatTests
{
    [Theory]
    [InlineData("aqlm-2x8")]
    [InlineData("aqlm-1x16")]
    [InlineData("nf4")]
    [InlineData("gptq")]
    public void BenchRunsAndCountsTheQuantizedBytesOfTheFormat(string format)
    {
        using var folder = new TempFolder();
        CliProcess.Ok("bench", "--shape", "tiny", "--format", format, "--device", "cpu", "--batch", "1", "--seq", "8",
                      "--steps", "1", "--warmup", "0", "--json", folder["b.json"]);
        var result = JsonNode.Parse(File.ReadAllText(folder["b.json"]))!;
        Assert.True(double.IsFinite((double)result["loss"]!) && (double)result["step_s"]! > 0);

        var c = ModelShapes.Get("tiny");
        int q = c.Heads * c.HeadDim, kv = c.KvHeads * c.HeadDim;
        (int Out, int In)[] linears = [(q, c.HiddenSize), (kv, c.HiddenSize), (kv, c.HiddenSize), (c.HiddenSize, q),
                                       (c.IntermediateSize, c.HiddenSize), (c.IntermediateSize, c.HiddenSize),
                                       (c.HiddenSize, c.IntermediateSize)];
        long Bytes(int outF, int inF) => format switch
        {
            "aqlm-2x8" => (long)outF * inF / 8 * 2 + 2 * 256 * 8 * 2,          // two int8 codes per 8 weights + two fp16 codebooks
            "aqlm-1x16" => (long)outF * inF / 8 * 2 + 65536 * 8 * 2,           // one int16 code per 8 weights + one fp16 codebook
            "nf4" => (long)outF * inF / 2 + 16 * 4,                            // two codes per byte + the fp32 table
            _ => (long)outF * inF / 2 + outF / 8 * 4 * ((inF + 127) / 128) + inF * 4, // 4-bit qweight, qzeros, g_idx
        };
        long expected = c.Layers * linears.Sum(l => Bytes(l.Out, l.In));
        Assert.Equal(expected, (long)result["weight_bytes_by_category"]!["QuantizedWeights"]!);
    }
}
