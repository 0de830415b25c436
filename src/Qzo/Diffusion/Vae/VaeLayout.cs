using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// The tensors of a diffusers AutoencoderKL, in the order the model holds them: what synthesis writes and, through
/// the loaders of each block, what loading reads.
/// </summary>
static class VaeLayout
{
    public enum Kind { ConvWeight, Bias, NormWeight, NormBias, LinearWeight }

    public readonly record struct Entry(string Name, long[] Shape, Kind Kind);

    public static IEnumerable<Entry> Tensors(VaeConfig c)
    {
        var ch = c.BlockOutChannels;
        int g = c.Levels;
        foreach (var t in Conv("encoder.conv_in", c.InChannels, ch[0], 3)) yield return t;
        for (int i = 0; i < g; i++)
        {
            int cIn = ch[Math.Max(i - 1, 0)];
            for (int j = 0; j < c.LayersPerBlock; j++)
                foreach (var t in Resnet($"encoder.down_blocks.{i}.resnets.{j}", j == 0 ? cIn : ch[i], ch[i])) yield return t;
            if (i < g - 1) foreach (var t in Conv($"encoder.down_blocks.{i}.downsamplers.0.conv", ch[i], ch[i], 3)) yield return t;
        }
        foreach (var t in Mid("encoder.mid_block", ch[^1], c.MidBlockAttention)) yield return t;
        foreach (var t in Norm("encoder.conv_norm_out", ch[^1])) yield return t;
        foreach (var t in Conv("encoder.conv_out", ch[^1], 2 * c.LatentChannels, 3)) yield return t;

        foreach (var t in Conv("decoder.conv_in", c.LatentChannels, ch[^1], 3)) yield return t;
        foreach (var t in Mid("decoder.mid_block", ch[^1], c.MidBlockAttention)) yield return t;
        var reversed = ch.Reverse().ToArray();
        for (int i = 0; i < g; i++)
        {
            int cIn = reversed[Math.Max(i - 1, 0)];
            for (int j = 0; j < c.LayersPerBlock + 1; j++)
                foreach (var t in Resnet($"decoder.up_blocks.{i}.resnets.{j}", j == 0 ? cIn : reversed[i], reversed[i])) yield return t;
            if (i < g - 1) foreach (var t in Conv($"decoder.up_blocks.{i}.upsamplers.0.conv", reversed[i], reversed[i], 3)) yield return t;
        }
        foreach (var t in Norm("decoder.conv_norm_out", ch[0])) yield return t;
        foreach (var t in Conv("decoder.conv_out", ch[0], c.OutChannels, 3)) yield return t;

        if (c.UseQuantConv) foreach (var t in Conv("quant_conv", 2 * c.LatentChannels, 2 * c.LatentChannels, 1)) yield return t;
        if (c.UsePostQuantConv) foreach (var t in Conv("post_quant_conv", c.LatentChannels, c.LatentChannels, 1)) yield return t;
    }

    static IEnumerable<Entry> Conv(string prefix, int cIn, int cOut, int k) =>
        [new(prefix + ".weight", [cOut, cIn, k, k], Kind.ConvWeight), new(prefix + ".bias", [cOut], Kind.Bias)];

    static IEnumerable<Entry> Norm(string prefix, int channels) =>
        [new(prefix + ".weight", [channels], Kind.NormWeight), new(prefix + ".bias", [channels], Kind.NormBias)];

    static IEnumerable<Entry> Linear(string prefix, int channels) =>
        [new(prefix + ".weight", [channels, channels], Kind.LinearWeight), new(prefix + ".bias", [channels], Kind.Bias)];

    static IEnumerable<Entry> Resnet(string prefix, int cIn, int cOut) =>
        Norm(prefix + ".norm1", cIn).Concat(Conv(prefix + ".conv1", cIn, cOut, 3)).Concat(Norm(prefix + ".norm2", cOut))
            .Concat(Conv(prefix + ".conv2", cOut, cOut, 3)).Concat(cIn != cOut ? Conv(prefix + ".conv_shortcut", cIn, cOut, 1) : []);

    static IEnumerable<Entry> Mid(string prefix, int channels, bool attention)
    {
        var list = Resnet(prefix + ".resnets.0", channels, channels);
        if (attention)
        {
            string a = prefix + ".attentions.0";
            list = list.Concat(Norm(a + ".group_norm", channels));
            foreach (var projection in new[] { "to_q", "to_k", "to_v", "to_out.0" })
                list = list.Concat(Linear($"{a}.{projection}", channels));
        }
        return list.Concat(Resnet(prefix + ".resnets.1", channels, channels));
    }

    /// <summary>
    /// The original latent-diffusion names (encoder.down.0.block.0..., first_stage_model.* in single-file checkpoints)
    /// are another layout; diffusers converts them with its single-file loader, which Qzo does not do.
    /// </summary>
    public static void RefuseOriginalLayout(Checkpoint checkpoint)
    {
        var original = checkpoint.Tensors.Names.FirstOrDefault(n =>
            n.StartsWith("first_stage_model.", StringComparison.Ordinal) || n.StartsWith("encoder.down.", StringComparison.Ordinal)
            || n.StartsWith("decoder.up.", StringComparison.Ordinal));
        if (original is not null)
            throw new QzoException($"{checkpoint.Directory}: tensor '{original}' is in the original (latent-diffusion) VAE layout; " +
                                   "Qzo reads diffusers' AutoencoderKL layout (convert it with diffusers first)");
    }
}
