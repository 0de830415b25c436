using System.Text.Json.Nodes;
using Qzo.Diffusion.Vae;
using Qzo.Models;

namespace Qzo.Tests.Diffusion.Vae;

/// <summary>vae/config.json as diffusers writes it, and the configs Qzo refuses with one line naming the file and key.</summary>
public class VaeConfigTests
{
    /// <summary>SD3.5 Large's vae/config.json (the keys diffusers 0.31 saved).</summary>
    const string Sd35 = """
        {"_class_name": "AutoencoderKL", "_diffusers_version": "0.31.0.dev0", "act_fn": "silu",
         "block_out_channels": [128, 256, 512, 512],
         "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
         "force_upcast": true, "in_channels": 3, "latent_channels": 16, "latents_mean": null, "latents_std": null,
         "layers_per_block": 2, "mid_block_add_attention": true, "norm_num_groups": 32, "out_channels": 3, "sample_size": 1024,
         "scaling_factor": 1.5305, "shift_factor": 0.0609,
         "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
         "use_post_quant_conv": false, "use_quant_conv": false}
        """;

    static VaeConfig Parse(string json, Action<JsonObject>? edit = null)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        edit?.Invoke(o);
        return VaeConfig.Parse(new JsonConfigReader(o, "vae/config.json"));
    }

    static string Refused(Action<JsonObject> edit) => Assert.Throws<QzoException>(() => Parse(Sd35, edit)).Message;

    /// <summary>A value as JSON text gives it (config.json is always parsed text).</summary>
    static JsonNode Json(string text) => JsonNode.Parse(text)!;

    [Fact]
    public void ReadsSd35sVae()
    {
        var c = Parse(Sd35);
        Assert.Equal([128, 256, 512, 512], c.BlockOutChannels);
        Assert.Equal((3, 3, 16, 2, 32), (c.InChannels, c.OutChannels, c.LatentChannels, c.LayersPerBlock, c.NormGroups));
        Assert.Equal((1.5305, 0.0609), (c.ScalingFactor, c.ShiftFactor!.Value));
        Assert.False(c.UseQuantConv);
        Assert.False(c.UsePostQuantConv);
        Assert.True(c.MidBlockAttention);
        Assert.Equal(8, c.DownscaleFactor);
    }

    [Fact]
    public void AbsentKeysTakeDiffusersDefaultsAsSd1sVaeNeeds()
    {
        var c = Parse("""
            {"_class_name": "AutoencoderKL", "block_out_channels": [128, 256, 512, 512], "layers_per_block": 2,
             "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
             "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"], "shift_factor": null}
            """);
        Assert.True(c.UseQuantConv);
        Assert.True(c.UsePostQuantConv);
        Assert.Equal(4, c.LatentChannels);
        Assert.Equal(0.18215, c.ScalingFactor);
        Assert.Null(c.ShiftFactor);
    }

    [Fact]
    public void SynthesizedConfigReadsBackUnchanged()
    {
        var tiny = VaeSynthesis.Tiny with { UseQuantConv = true, MidBlockAttention = false };
        var written = JsonNode.Parse(tiny.ToJson().ToJsonString())!.AsObject();
        var back = VaeConfig.Parse(new JsonConfigReader(written, "config.json"));
        Assert.Equal(tiny with { BlockOutChannels = [] }, back with { BlockOutChannels = [] });
        Assert.Equal(tiny.BlockOutChannels, back.BlockOutChannels);
    }

    [Fact]
    public void RefusesOtherBlockTypesByName()
    {
        string m = Refused(o => o["down_block_types"]![1] = "AttnDownEncoderBlock2D");
        Assert.Contains("vae/config.json", m);
        Assert.Contains("down_block_types entry 'AttnDownEncoderBlock2D' is not supported", m);
        Assert.Contains("up_block_types", Refused(o => o["up_block_types"]![0] = "UpBlock2D"));
        Assert.Contains("has 3 entries but block_out_channels has 4", Refused(o => o["up_block_types"]!.AsArray().RemoveAt(0)));
        Assert.Contains("a list of strings", Refused(o => o["down_block_types"] = Json("4")));
    }

    [Fact]
    public void AcceptsDiffusersUNetResPrefix() =>
        Assert.Equal(4, Parse(Sd35, o => o["down_block_types"]![0] = "UNetResDownEncoderBlock2D").Levels);

    [Fact]
    public void RefusesWhatTheVaeCannotRun()
    {
        Assert.Contains("act_fn 'gelu' is not supported", Refused(o => o["act_fn"] = "gelu"));
        Assert.Contains("_class_name 'AutoencoderTiny' is not supported", Refused(o => o["_class_name"] = "AutoencoderTiny"));
        Assert.Contains("block_out_channels entry 48 is not a multiple of norm_num_groups (32)",
            Refused(o => o["block_out_channels"]![1] = Json("48")));
        Assert.Contains("'latent_channels' must be positive", Refused(o => o["latent_channels"] = Json("0")));
        Assert.Contains("'scaling_factor' must be a nonzero number", Refused(o => o["scaling_factor"] = Json("0.0")));
        Assert.Contains("'use_quant_conv' must be true or false", Refused(o => o["use_quant_conv"] = "yes"));
    }

    [Fact]
    public void SwishIsSilu() => Assert.Equal(16, Parse(Sd35, o => o["act_fn"] = "swish").LatentChannels);
}
