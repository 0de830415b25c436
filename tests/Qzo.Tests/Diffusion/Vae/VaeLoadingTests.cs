using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Vae;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Tests.Diffusion.Vae;

/// <summary>Loading a diffusers vae/ folder: diffusers' tensor names and shapes, and every kind of mismatch refused clearly.</summary>
public class VaeLoadingTests : IDisposable
{
    readonly TempFolder _folder = new();
    readonly CpuBackend _cpu = new();

    public void Dispose() { _cpu.Dispose(); _folder.Dispose(); }

    string Weights => _folder[CheckpointTensors.DiffusersFileName];

    /// <summary>Rewrites the synthesized weights file after <paramref name="edit"/> changed its list of tensors.</summary>
    void EditTensors(Action<List<TensorToWrite>> edit)
    {
        List<TensorToWrite> tensors;
        using (var file = SafetensorsFile.Open(Weights))
            tensors = file.Tensors.Select(t => new TensorToWrite(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray())).ToList();
        edit(tensors);
        SafetensorsWriter.Write(Weights, tensors);
    }

    static void Rename(List<TensorToWrite> tensors, string from, string to)
    {
        int i = tensors.FindIndex(t => t.Name == from);
        Assert.True(i >= 0, $"no tensor {from}");
        tensors[i] = tensors[i] with { Name = to };
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void LoadsEveryTensorDiffusersSaves(bool quantConvs, bool midAttention)
    {
        var config = VaeSynthesis.Tiny with { UseQuantConv = quantConvs, UsePostQuantConv = quantConvs, MidBlockAttention = midAttention };
        VaeSynthesis.Write(_folder.Path, config, seed: 1);
        using var vae = AutoencoderKL.Load(_folder.Path, _cpu);
        Assert.Equal(quantConvs, vae.QuantConv is not null && vae.PostQuantConv is not null);
        Assert.Equal(midAttention, vae.Encoder.MidBlock.Attention is not null && vae.Decoder.MidBlock.Attention is not null);
        Assert.NotNull(vae.Encoder.DownBlocks[1].Resnets[0].ConvShortcut);  // 32 → 64 channels
        Assert.Null(vae.Encoder.DownBlocks[0].Resnets[0].ConvShortcut);
        Assert.NotNull(vae.Decoder.UpBlocks[1].Resnets[0].ConvShortcut);   // 64 → 32 channels
        Assert.Null(vae.Encoder.DownBlocks[1].Downsampler);
        Assert.Null(vae.Decoder.UpBlocks[1].Upsampler);
    }

    [Fact]
    public void NamesAreDiffusers()
    {
        var names = VaeLayout.Tensors(VaeSynthesis.Tiny).Select(t => t.Name).ToHashSet();
        foreach (var name in new[]
        {
            "encoder.conv_in.weight", "encoder.down_blocks.0.resnets.0.norm1.weight", "encoder.down_blocks.0.downsamplers.0.conv.bias",
            "encoder.down_blocks.1.resnets.0.conv_shortcut.weight", "encoder.mid_block.attentions.0.group_norm.weight",
            "encoder.mid_block.attentions.0.to_out.0.weight", "encoder.mid_block.resnets.1.conv2.bias", "encoder.conv_norm_out.bias",
            "encoder.conv_out.weight", "decoder.conv_in.weight", "decoder.up_blocks.0.resnets.1.conv1.weight",
            "decoder.up_blocks.0.upsamplers.0.conv.weight", "decoder.up_blocks.1.resnets.0.conv_shortcut.bias", "decoder.conv_out.bias",
        })
            Assert.Contains(name, names);
        Assert.Equal([64, 16, 3, 3], VaeLayout.Tensors(VaeSynthesis.Tiny).Single(t => t.Name == "decoder.conv_in.weight").Shape);
    }

    [Fact]
    public void NamesAMissingFolderOrConfig()
    {
        var missing = Assert.Throws<QzoException>(() => AutoencoderKL.Load(_folder["absent"], _cpu));
        Assert.Contains("component folder not found", missing.Message);
        VaeSynthesis.Write(_folder.Path, VaeSynthesis.Tiny, seed: 1);
        File.Delete(_folder["config.json"]);
        Assert.Contains("config.json", Assert.Throws<QzoException>(() => AutoencoderKL.Load(_folder.Path, _cpu)).Message);
    }

    [Fact]
    public void RefusesLeftoverTensors()
    {
        VaeSynthesis.Write(_folder.Path, VaeSynthesis.Tiny, seed: 1);
        EditTensors(t => t.Add(new TensorToWrite("quant_conv.weight", DType.F32, [32, 32, 1, 1], new byte[32 * 32 * 4])));
        var e = Assert.Throws<QzoException>(() => AutoencoderKL.Load(_folder.Path, _cpu));
        Assert.Contains("1 tensor that an AutoencoderKL with this config.json does not have: quant_conv.weight", e.Message);
    }

    [Fact]
    public void NamesAMissingTensor()
    {
        VaeSynthesis.Write(_folder.Path, VaeSynthesis.Tiny, seed: 1);
        EditTensors(t => t.RemoveAll(x => x.Name == "decoder.up_blocks.1.resnets.0.conv_shortcut.bias"));
        var e = Assert.Throws<QzoException>(() => AutoencoderKL.Load(_folder.Path, _cpu));
        Assert.Contains("tensor 'decoder.up_blocks.1.resnets.0.conv_shortcut.bias' is missing", e.Message);
    }

    [Fact]
    public void NamesATensorWhoseShapeDisagreesWithConfig()
    {
        VaeSynthesis.Write(_folder.Path, VaeSynthesis.Tiny with { LatentChannels = 4 }, seed: 1);
        VaeSynthesis.Write(_folder["other"], VaeSynthesis.Tiny, seed: 1);
        File.Copy(Path.Combine(_folder["other"], "config.json"), _folder["config.json"], overwrite: true);
        var e = Assert.Throws<QzoException>(() => AutoencoderKL.Load(_folder.Path, _cpu));
        Assert.Contains("tensor 'encoder.conv_out.weight' has shape [8, 64, 3, 3] but config.json implies [32, 64, 3, 3]", e.Message);
    }

    [Fact]
    public void RefusesTheOriginalLatentDiffusionLayout()
    {
        VaeSynthesis.Write(_folder.Path, VaeSynthesis.Tiny, seed: 1);
        EditTensors(t => Rename(t, "encoder.down_blocks.0.resnets.0.norm1.weight", "encoder.down.0.block.0.norm1.weight"));
        var e = Assert.Throws<QzoException>(() => AutoencoderKL.Load(_folder.Path, _cpu));
        Assert.Contains("'encoder.down.0.block.0.norm1.weight' is in the original (latent-diffusion) VAE layout", e.Message);
    }

    [Fact]
    public void ReadsTheLegacyAttentionNamesAsDiffusersRenamesThem()
    {
        VaeSynthesis.Write(_folder.Path, VaeSynthesis.Tiny, seed: 3);
        float[] current = DecodeOnce();
        EditTensors(t =>
        {
            foreach (var block in new[] { "encoder", "decoder" })
                foreach (var (now, old) in new[] { ("to_q", "query"), ("to_k", "key"), ("to_v", "value"), ("to_out.0", "proj_attn") })
                    foreach (var part in new[] { "weight", "bias" })
                        Rename(t, $"{block}.mid_block.attentions.0.{now}.{part}", $"{block}.mid_block.attentions.0.{old}.{part}");
        });
        Assert.Equal(current, DecodeOnce());
    }

    float[] DecodeOnce()
    {
        using var vae = AutoencoderKL.Load(_folder.Path, _cpu);
        var latents = VaeTestSupport.RandomImage(1, 16, 4, 4, seed: 5);
        using var z = VaeTestSupport.Upload(_cpu, latents);
        using var image = vae.Decode(vae.Context(), z, VaeTestSupport.ShapeOf(latents));
        return VaeTestSupport.Download(_cpu, image, image.Length);
    }

    [Fact]
    public void FindsAShardedDiffusersCheckpoint()
    {
        VaeSynthesis.Write(_folder.Path, VaeSynthesis.Tiny, seed: 1);
        string shard = "diffusion_pytorch_model-00001-of-00001.safetensors";
        File.Move(Weights, _folder[shard]);
        List<string> names;
        using (var file = SafetensorsFile.Open(_folder[shard])) names = file.Tensors.Select(t => t.Name).ToList();
        var map = new JsonObject();
        foreach (var name in names) map[name] = shard;
        var index = new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map };
        File.WriteAllText(_folder["diffusion_pytorch_model.safetensors.index.json"], index.ToJsonString());
        File.Copy(_folder[shard], _folder["diffusion_pytorch_model.fp16.safetensors"]);  // a variant beside it must not confuse the search
        using var vae = AutoencoderKL.Load(_folder.Path, _cpu);
        Assert.Equal(2, vae.Encoder.DownBlocks.Count);
    }
}
