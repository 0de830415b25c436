using System.Text.Json.Nodes;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

public class GptqConfigTests
{
    const string File = "/models/x/quantize_config.json";

    static GptqConfig Parse(string json) => GptqConfig.Parse(JsonNode.Parse(json)!.AsObject(), File);

    [Fact]
    public void ParsesTheFormatsExample()
    {
        var config = Parse("""
            {"quant_method":"gptq", "bits":4, "group_size":128, "desc_act":false, "sym":true, "true_sequential":true,
             "damp_percent":0.01, "static_groups":false, "checkpoint_format":"gptq"}
            """);

        Assert.Equal(new GptqConfig(4, 128, false, true, GptqCheckpointFormat.Gptq, 0.01, true, false, false, "gptq", null), config);
        Assert.Equal(128, config.EffectiveGroupSize(4096));
    }

    const string GptqModelJson = """
        {"bits":4, "dynamic":null, "group_size":128, "desc_act":true, "sym":false, "lm_head":false,
         "quant_method":"gptq", "checkpoint_format":"gptq_v2", "format":"gptq_v2", "pack_dtype":"int32",
         "model_name_or_path":"/tmp/out", "use_exllama":true, "exllama_config":{"version":2},
         "meta":{"quantizer":["gptqmodel:2.2.0"], "uri":"https://github.com/modelcloud/gptqmodel",
                 "damp_percent":0.05, "damp_auto_increment":0.01, "static_groups":true, "true_sequential":false, "mse":0.0}}
        """;

    [Fact]
    public void ParsesGptqModelStyleWithFormatAndMeta()
    {
        var config = Parse(GptqModelJson);

        Assert.Equal(4, config.Bits);
        Assert.True(config.DescAct);
        Assert.False(config.Sym);
        Assert.Equal(GptqCheckpointFormat.GptqV2, config.Format);
        Assert.Equal(0.05, config.DampPercent);   // from meta
        Assert.True(config.StaticGroups);         // from meta
        Assert.False(config.TrueSequential);      // from meta
        Assert.Equal("gptqmodel:2.2.0", config.Quantizer);
    }

    [Fact]
    public void FormatAloneAndDefaultsAreAccepted()
    {
        var config = Parse("""{"bits":3, "group_size":-1, "format":"gptq_v2"}""");
        Assert.Equal(GptqCheckpointFormat.GptqV2, config.Format);
        Assert.Equal(4096, config.EffectiveGroupSize(4096));
        Assert.True(config.Sym);
        Assert.False(config.DescAct);

        // Old AutoGPTQ files have neither key: v1.
        Assert.Equal(GptqCheckpointFormat.Gptq, Parse("""{"bits":4, "group_size":128}""").Format);
    }

    [Theory]
    [InlineData("""{"bits":5, "group_size":128}""", "bits")]
    [InlineData("""{"bits":"4", "group_size":128}""", "bits")]
    [InlineData("""{"group_size":128}""", "bits")]
    [InlineData("""{"bits":4, "group_size":0}""", "group_size")]
    [InlineData("""{"bits":4, "group_size":-2}""", "group_size")]
    [InlineData("""{"bits":4, "checkpoint_format":"marlin"}""", "checkpoint_format")]
    [InlineData("""{"bits":4, "format":"bitblas"}""", "format")]
    [InlineData("""{"bits":4, "checkpoint_format":"gptq", "format":"gptq_v2"}""", "format")]
    [InlineData("""{"bits":4, "is_marlin_format":true}""", "is_marlin_format")]
    [InlineData("""{"bits":4, "pack_dtype":"int16"}""", "pack_dtype")]
    [InlineData("""{"bits":4, "quant_method":"awq"}""", "quant_method")]
    [InlineData("""{"bits":4, "dynamic":{"-:.*lm_head":{}}}""", "dynamic")]
    [InlineData("""{"bits":4, "desc_act":"yes"}""", "desc_act")]
    [InlineData("""{"bits":4, "sym":1}""", "sym")]
    [InlineData("""{"bits":4, "damp_percent":"0.01"}""", "damp_percent")]
    [InlineData("""{"bits":4, "meta":[1]}""", "meta")]
    [InlineData("""{"bits":4, "meta":{"quantizer":[5]}}""", "meta.quantizer")]
    [InlineData("""{"bits":4, "meta":{"damp_percent":true}}""", "meta.damp_percent")]
    public void RejectsWhatItCannotLoadNamingFileAndKey(string json, string key)
    {
        var error = Assert.Throws<QzoException>(() => Parse(json));
        Assert.StartsWith(File + ":", error.Message);
        Assert.Contains($"\"{key}\"", error.Message);
    }

    [Fact]
    public void AcceptsNullOrEmptyDynamicAndTorchSpelledPackDtype()
    {
        Parse("""{"bits":4, "dynamic":null, "pack_dtype":"int32"}""");
        Parse("""{"bits":4, "dynamic":{}, "pack_dtype":"torch.int32"}""");
    }

    [Fact]
    public void ToJsonRoundTripsAndKeepsUnknownKeys()
    {
        var source = JsonNode.Parse(GptqModelJson)!.AsObject();
        var config = GptqConfig.Parse(source, File);

        var written = config.ToJson();

        Assert.Equal(config, GptqConfig.Parse(written, "written.json"));
        foreach (var key in new[] { "model_name_or_path", "use_exllama", "exllama_config", "dynamic" })
            Assert.True(JsonNode.DeepEquals(source[key], written[key]), key);
        Assert.Equal("https://github.com/modelcloud/gptqmodel", (string?)written["meta"]!["uri"]);
        Assert.Equal(0.01, (double?)written["meta"]!["damp_auto_increment"]);
        Assert.Equal(["gptqmodel:2.2.0", GptqConfig.QzoQuantizerTag],
            written["meta"]!["quantizer"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("gptq_v2", (string?)written["checkpoint_format"]);
        Assert.Equal("gptq_v2", (string?)written["format"]);

        // Writing again neither repeats nor loses the tag, and the input object is untouched.
        var again = GptqConfig.Parse(written, "written.json").ToJson();
        Assert.True(JsonNode.DeepEquals(written, again));
        Assert.Null(source["damp_percent"]);
    }

    [Fact]
    public void AFreshConfigWritesGptqModelKeys()
    {
        var json = new GptqConfig(4, 128, false, true, GptqCheckpointFormat.Gptq).ToJson();

        Assert.Equal(["quant_method", "bits", "group_size", "desc_act", "sym", "true_sequential", "damp_percent",
                      "static_groups", "checkpoint_format", "format", "lm_head", "pack_dtype", "meta"],
            json.Select(p => p.Key));
        Assert.Equal("gptq", (string?)json["quant_method"]);
        Assert.Equal(4, (int?)json["bits"]);
        Assert.Equal(128, (int?)json["group_size"]);
        Assert.Equal(false, (bool?)json["desc_act"]);
        Assert.Equal(true, (bool?)json["sym"]);
        Assert.Equal("gptq", (string?)json["checkpoint_format"]);
        Assert.Equal("int32", (string?)json["pack_dtype"]);
        Assert.Equal([GptqConfig.QzoQuantizerTag], json["meta"]!["quantizer"]!.AsArray().Select(n => (string)n!));
        Assert.StartsWith("qzo:", GptqConfig.QzoQuantizerTag);
        // Read back, the checkpoint names Qzo as its quantizer.
        Assert.Equal(new GptqConfig(4, 128, false, true, GptqCheckpointFormat.Gptq) { Quantizer = GptqConfig.QzoQuantizerTag },
            GptqConfig.Parse(json, "x"));
    }
}
