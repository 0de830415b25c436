using System.Text.Json.Nodes;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Models.Architectures.Opt;

namespace Qzo.Tests.Models;

/// <summary>config.json → architecture and options; anything unsupported refused in one line naming the key and the file.</summary>
public class ArchitectureConfigTests
{
    static ModelConfig Parse(string json) => ModelConfig.Parse(new JsonConfigReader(JsonNode.Parse(json)!.AsObject(), "dir/config.json"));

    const string LlamaKeys = """
        "vocab_size": 320, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3
        """ + """, "num_attention_heads": 4, "num_key_value_heads": 2""";
    const string OptKeys = """
        "vocab_size": 320, "hidden_size": 64, "ffn_dim": 256, "num_hidden_layers": 2, "num_attention_heads": 4
        """ + """, "max_position_embeddings": 128""";

    [Fact]
    public void ModelTypeSelectsTheArchitectureAndItsDefaults()
    {
        var mistral = Assert.IsType<LlamaConfig>(
            Parse($$"""{"model_type": "mistral", "architectures": ["MistralForCausalLM"], "sliding_window": 4096, {{LlamaKeys}}}"""));
        Assert.Equal(ArchitectureRegistry.Mistral, mistral.Architecture);
        Assert.Equal([4096, 4096, 4096], mistral.LayerWindows!);
        Assert.False(mistral.QkvBias || mistral.OutputBias || mistral.TieWordEmbeddings);
        Assert.Null(((LlamaConfig)Parse($$"""{"model_type": "mistral", "sliding_window": null, {{LlamaKeys}}}""")).LayerWindows);

        var qwen = Assert.IsType<LlamaConfig>(
            Parse($$"""{"model_type": "qwen2", "sliding_window": 32768, "use_sliding_window": false, {{LlamaKeys}}}"""));
        Assert.True(qwen.QkvBias);
        Assert.False(qwen.OutputBias || qwen.MlpBias);
        Assert.Null(qwen.LayerWindows);
        Assert.Equal(1e-6f, qwen.RmsNormEps);

        var llama = Assert.IsType<LlamaConfig>(
            Parse($$"""{"model_type": "llama", "attention_bias": true, "sliding_window": 8, {{LlamaKeys}}}"""));
        Assert.True(llama.QkvBias && llama.OutputBias);
        Assert.Null(llama.LayerWindows); // Llama has no window, whatever the file says

        var opt = Assert.IsType<OptConfig>(Parse($$"""{"model_type": "opt", "architectures": ["OPTForCausalLM"], {{OptKeys}}}"""));
        Assert.True(opt.TieWordEmbeddings && opt.DoLayerNormBefore && opt.FinalLayerNorm && opt.EnableBias && opt.LayerNormAffine);
        Assert.Equal(16, opt.HeadDim);
        Assert.False(opt.ProjectsWords);
        var opt350 = (OptConfig)Parse($$"""{"model_type": "opt", "do_layer_norm_before": false, "word_embed_proj_dim": 32, {{OptKeys}}}""");
        Assert.False(opt350.FinalLayerNorm);
        Assert.True(opt350.ProjectsWords);
        Assert.False(((OptConfig)Parse($$"""{"model_type": "opt", "_remove_final_layer_norm": true, {{OptKeys}}}""")).FinalLayerNorm);
        Assert.Equal(64, ((OptConfig)Parse("""{"model_type": "opt", "d_model": 64, "vocab_size": 9, "ffn_dim": 8""" +
            """, "num_hidden_layers": 1, "num_attention_heads": 2}""")).HiddenSize);
    }

    [Fact]
    public void Qwen2WindowsFollowLayerTypesOrMaxWindowLayers()
    {
        var byIndex = (LlamaConfig)Parse(
            $$"""{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 5, "max_window_layers": 2, {{LlamaKeys}}}""");
        Assert.Equal([0, 0, 5], byIndex.LayerWindows!);
        Assert.Equal(5, byIndex.AttentionWindow(2));
        var byType = (LlamaConfig)Parse($$"""
            {"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 5, "max_window_layers": 2,
             "layer_types": ["sliding_attention", "full_attention", "sliding_attention"], {{LlamaKeys}}}
            """);
        Assert.Equal([5, 0, 5], byType.LayerWindows!);
    }

    [Theory]
    [InlineData("""{"model_type": "falcon"}""", "model_type 'falcon'", "supported: llama, mistral, qwen2, opt")]
    [InlineData("""{"model_type": "opt", "architectures": ["LlamaForCausalLM"]}""", "LlamaForCausalLM", "OPTForCausalLM")]
    [InlineData("""{"model_type": "mistral", "hidden_act": "gelu", "vocab_size": 1}""", "hidden_act 'gelu'", "MistralForCausalLM")]
    [InlineData("""{"model_type": "qwen2", "rope_scaling": {"type": "yarn", "factor": 4.0}, XX}""", "rope type 'yarn'", "")]
    [InlineData("""{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 4""" +
                """, "layer_types": ["full_attention", "chunked_attention", "full_attention"], XX}""",
                "layer_types[1] 'chunked_attention'", "")]
    [InlineData("""{"model_type": "llama", "partial_rotary_factor": 0.5, XX}""", "partial_rotary_factor", "")]
    [InlineData("""{"model_type": "mistral", "sliding_window": 0, XX}""", "'sliding_window'", "positive")]
    [InlineData("""{"model_type": "opt", "activation_function": "gelu", YY}""", "activation_function 'gelu'", "relu")]
    [InlineData("""{"model_type": "opt", "vocab_size": 9, "hidden_size": 10, "ffn_dim": 8, "num_hidden_layers": 1""" +
                """, "num_attention_heads": 4}""", "hidden_size (10)", "num_attention_heads (4)")]
    [InlineData("""{"model_type": "opt", "vocab_size": 9, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4}""",
                "'ffn_dim'", "missing")]
    public void UnsupportedOptionsAreRefusedByName(string json, string names, string alsoNames)
    {
        var e = Assert.Throws<QzoException>(() => Parse(json.Replace("XX", LlamaKeys).Replace("YY", OptKeys)));
        Assert.StartsWith("dir/config.json: ", e.Message);
        Assert.Contains(names, e.Message);
        Assert.Contains(alsoNames, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
