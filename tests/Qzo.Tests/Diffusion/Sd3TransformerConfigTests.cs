using System.Text.Json.Nodes;
using Qzo.Diffusion.Sd3;
using Qzo.Models;

namespace Qzo.Tests.Diffusion;

public class Sd3TransformerConfigTests
{
    /// <summary>SD3.5 Medium's transformer/config.json (keys as diffusers 0.31 saved them).</summary>
    static JsonObject Medium() => new()
    {
        ["_class_name"] = "SD3Transformer2DModel", ["_diffusers_version"] = "0.31.0.dev0", ["attention_head_dim"] = 64,
        ["caption_projection_dim"] = 1536, ["dual_attention_layers"] = new JsonArray(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
        ["in_channels"] = 16, ["joint_attention_dim"] = 4096, ["num_attention_heads"] = 24, ["num_layers"] = 24, ["out_channels"] = 16,
        ["patch_size"] = 2, ["pooled_projection_dim"] = 2048, ["pos_embed_max_size"] = 384, ["qk_norm"] = "rms_norm", ["sample_size"] = 128,
    };

    // Through text, as config.json is read: JsonConfigReader takes numbers as parsed JSON gives them.
    static Sd3TransformerConfig Parse(JsonObject json) =>
        Sd3TransformerConfig.Parse(new JsonConfigReader(JsonNode.Parse(json.ToJsonString())!.AsObject(), "transformer/config.json"));

    static void Refused(JsonObject json, string message)
    {
        var e = Assert.Throws<QzoException>(() => Parse(json));
        Assert.Equal("transformer/config.json: " + message, e.Message);
    }

    [Fact]
    public void Sd35Medium()
    {
        var c = Parse(Medium());
        Assert.Equal(1536, c.InnerDim);
        Assert.Equal(64, c.PositionBaseSize);
        Assert.Equal(64, c.PatchOutputWidth);
        Assert.True(c.QkRmsNorm);
        Assert.True(c.IsDual(0) && c.IsDual(12) && !c.IsDual(13));
        Assert.True(c.IsContextPreOnly(23) && !c.IsContextPreOnly(22));
    }

    [Fact]
    public void KeysOlderConfigsLackTakeDiffusersDefaults()
    {
        var json = Medium();
        json.Remove("dual_attention_layers"); // SD3.5 Large's config has no such key
        json.Remove("qk_norm");               // nor do SD3.0's
        json["out_channels"] = null;          // diffusers: out_channels or in_channels
        var c = Parse(json);
        Assert.Empty(c.DualAttentionLayers);
        Assert.False(c.QkRmsNorm);
        Assert.Equal(16, c.OutChannels);
    }

    [Fact]
    public void UnsupportedOrInconsistentValuesAreRefused()
    {
        var json = Medium(); json["qk_norm"] = "layer_norm";
        Refused(json, "qk_norm 'layer_norm' is not supported (supported: \"rms_norm\", null)");
        json = Medium(); json.Remove("num_layers");
        Refused(json, "required key 'num_layers' is missing");
        json = Medium(); json["caption_projection_dim"] = 1152;
        Refused(json, "caption_projection_dim (1152) must equal num_attention_heads · attention_head_dim (1536): the joint blocks run " +
                      "the text tokens at that width");
        json = Medium(); json["_class_name"] = "FluxTransformer2DModel";
        Refused(json, "_class_name 'FluxTransformer2DModel' is not SD3Transformer2DModel");
        json = Medium(); json["dual_attention_layers"] = new JsonArray(0, 24);
        Refused(json, "dual_attention_layers names block 24, but num_layers is 24");
        json = Medium(); json["pos_embed_max_size"] = null;
        Refused(json, "pos_embed_max_size is missing or null; only SD3's stored, cropped positional table is supported");
        json = Medium(); json["patch_size"] = 0;
        Refused(json, "'patch_size' must be positive, got 0");
    }

    [Fact]
    public void ToJsonRoundTrips()
    {
        var c = Parse(Medium());
        var again = Parse(c.ToJson());
        Assert.Equal(c.ToJson().ToJsonString(), again.ToJson().ToJsonString());
        Assert.Equal(Medium()["dual_attention_layers"]!.ToJsonString(), c.ToJson()["dual_attention_layers"]!.ToJsonString());
    }
}
