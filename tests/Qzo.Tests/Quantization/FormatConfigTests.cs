using System.Text.Json.Nodes;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Quantization;

/// <summary>quantization_config for bitsandbytes and AQLM, as transformers' BitsAndBytesConfig and AqlmConfig write them.</summary>
public class FormatConfigTests
{
    static JsonObject Json(string text) => JsonNode.Parse(text)!.AsObject();

    [Fact]
    public void BitsAndBytesConfigReadsTransformersKeysAndKeepsUnknownOnes()
    {
        var config = (BitsAndBytesConfig)QuantizationConfigs.Parse(Json("""
            {"_load_in_4bit": true, "_load_in_8bit": false, "bnb_4bit_compute_dtype": "bfloat16", "bnb_4bit_quant_storage": "uint8",
             "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": true, "llm_int8_enable_fp32_cpu_offload": false,
             "llm_int8_has_fp16_weight": false, "llm_int8_skip_modules": ["lm_head"], "llm_int8_threshold": 6.0,
             "load_in_4bit": true, "load_in_8bit": false, "quant_method": "bitsandbytes", "some_future_key": 3}
            """), "config.json");
        Assert.Equal(FourBitType.Nf4, config.QuantType);
        Assert.True(config.DoubleQuant);
        Assert.Equal("bfloat16", config.ComputeDType);
        Assert.Equal(["lm_head"], config.SkipModules);
        Assert.Equal("bitsandbytes nf4 (4-bit, blockwise absmax, double quant, compute bfloat16)", config.Description);
        var json = config.ToJson();
        Assert.Equal(3, (int)json["some_future_key"]!);
        Assert.True((bool)json["load_in_4bit"]!);
        Assert.Equal("uint8", (string)json["bnb_4bit_quant_storage"]!);
    }

    [Fact]
    public void BitsAndBytesDefaultsAreTransformers()
    {
        var config = BitsAndBytesConfig.Parse(Json("""{"quant_method": "bitsandbytes", "load_in_4bit": true}"""), "c");
        Assert.Equal(FourBitType.Fp4, config.QuantType);
        Assert.False(config.DoubleQuant);
        Assert.Equal("float32", config.ComputeDType);
        Assert.Null(config.SkipModules);
    }

    [Theory]
    [InlineData("""{"quant_method": "bitsandbytes", "load_in_8bit": true}""", "load_in_8bit")]
    [InlineData("""{"quant_method": "bitsandbytes"}""", "load_in_4bit")]
    [InlineData("""{"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_type": "int4"}""", "bnb_4bit_quant_type")]
    [InlineData("""{"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_storage": "bfloat16"}""",
                "bnb_4bit_quant_storage")]
    [InlineData("""{"quant_method": "aqlm", "nbits_per_codebook": 17}""", "17 bits")]
    [InlineData("""{"quant_method": "aqlm", "num_codebooks": "two"}""", "num_codebooks")]
    [InlineData("""{"quant_method": "awq"}""", "awq")]
    public void UnsupportedConfigsNameTheFileAndKey(string json, string what)
    {
        var e = Assert.Throws<QzoException>(() => QuantizationConfigs.Parse(Json(json), "dir/config.json"));
        Assert.Contains("dir/config.json", e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void AqlmConfigReadsConvertToHfKeys()
    {
        var config = (AqlmConfig)QuantizationConfigs.Parse(Json("""
            {"quant_method": "aqlm", "nbits_per_codebook": 16, "num_codebooks": 1, "out_group_size": 1, "in_group_size": 8,
             "linear_weights_not_to_quantize": ["model.embed_tokens.weight", "lm_head.weight"]}
            """), "config.json");
        Assert.Equal(new AqlmScheme(1, 16, 8, 1), config.Scheme);
        Assert.Equal(["model.embed_tokens.weight", "lm_head.weight"], config.LinearWeightsNotToQuantize);
        Assert.StartsWith("AQLM 1x16", config.Description);
        var json = config.ToJson();
        foreach (var key in new[] { "quant_method", "nbits_per_codebook", "num_codebooks", "out_group_size", "in_group_size",
                                    "linear_weights_not_to_quantize" })
            Assert.NotNull(json[key]);
        var defaults = AqlmConfig.Parse(Json("""{"quant_method": "aqlm"}"""), "c");
        Assert.Equal(new AqlmScheme(1, 16, 8, 1), defaults.Scheme); // AqlmConfig's defaults
        Assert.Empty(defaults.LinearWeightsNotToQuantize);
    }
}
