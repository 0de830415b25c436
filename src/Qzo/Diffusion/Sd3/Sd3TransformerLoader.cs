using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Sd3;

/// <summary>
/// The tensors of a diffusers SD3Transformer2DModel folder, by diffusers' names: every nn.Linear through
/// <see cref="ParameterLoader.Linear"/> (dense, or bitsandbytes NF4/FP4 where stored so), the convolution, the stored
/// positional table and the RMSNorm weights through <see cref="ParameterLoader.Dense"/>. A tensor left over means the
/// config does not describe the checkpoint (e.g. attn2 weights of a block not in dual_attention_layers): refused.
/// </summary>
static class Sd3TransformerLoader
{
    public static Sd3Transformer Load(string folder, IBackend backend)
    {
        var config = Sd3TransformerConfig.Load(Path.Combine(folder, "config.json"));
        using var checkpoint = Checkpoint.OpenComponent(folder);
        var p = new ParameterLoader(checkpoint, backend, TrainingScope.None);
        var model = Build(p, config, folder);
        var unused = p.Unused();
        if (unused.Count == 0) return model;
        model.Dispose();
        throw new QzoException($"{folder}: {unused.Count} tensor{(unused.Count == 1 ? "" : "s")} that config.json does not account for: " +
                               string.Join(", ", unused.Take(5)) + (unused.Count > 5 ? ", ..." : ""));
    }

    static Sd3Transformer Build(ParameterLoader p, Sd3TransformerConfig c, string folder)
    {
        int d = c.InnerDim, m = c.PosEmbedMaxSize;
        var blocks = new List<Sd3Block>();
        try
        {
            for (int i = 0; i < c.Layers; i++) blocks.Add(Block(p, c, i));
            return new Sd3Transformer(c, p.Backend, folder)
            {
                PatchWeight = p.Dense("pos_embed.proj.weight", [d, c.InChannels, c.PatchSize, c.PatchSize]),
                PatchBias = p.Dense("pos_embed.proj.bias", [d]),
                PositionTable = p.Dense("pos_embed.pos_embed", [1, (long)m * m, d]),
                TimestepLinear1 = p.Linear("time_text_embed.timestep_embedder.linear_1", Sd3TransformerConfig.TimestepChannels, d, true),
                TimestepLinear2 = p.Linear("time_text_embed.timestep_embedder.linear_2", d, d, true),
                TextLinear1 = p.Linear("time_text_embed.text_embedder.linear_1", c.PooledProjectionDim, d, true),
                TextLinear2 = p.Linear("time_text_embed.text_embedder.linear_2", d, d, true),
                ContextEmbedder = p.Linear("context_embedder", c.JointAttentionDim, c.CaptionProjectionDim, true),
                Blocks = blocks,
                NormOut = p.Linear("norm_out.linear", d, 2 * d, true),
                ProjOut = p.Linear("proj_out", d, c.PatchOutputWidth, true),
            };
        }
        catch
        {
            // What was loaded before the failure is on the device: give it back.
            foreach (var block in blocks) block.Dispose();
            throw;
        }
    }

    static Sd3Block Block(ParameterLoader p, Sd3TransformerConfig c, int i)
    {
        int d = c.InnerDim;
        string prefix = $"transformer_blocks.{i}.";
        bool dual = c.IsDual(i), last = c.IsContextPreOnly(i);
        return new Sd3Block
        {
            Dual = dual,
            ContextPreOnly = last,
            Norm1 = p.Linear(prefix + "norm1.linear", d, (dual ? 9 : 6) * d, true),
            Norm1Context = p.Linear(prefix + "norm1_context.linear", d, (last ? 2 : 6) * d, true),
            Attention = Attention(p, c, prefix + "attn.", joint: true, hasAddOut: !last),
            Attention2 = dual ? Attention(p, c, prefix + "attn2.", joint: false, hasAddOut: false) : null,
            FeedForwardIn = p.Linear(prefix + "ff.net.0.proj", d, 4 * d, true),
            FeedForwardOut = p.Linear(prefix + "ff.net.2", 4 * d, d, true),
            ContextFeedForwardIn = last ? null : p.Linear(prefix + "ff_context.net.0.proj", d, 4 * d, true),
            ContextFeedForwardOut = last ? null : p.Linear(prefix + "ff_context.net.2", 4 * d, d, true),
        };
    }

    static Sd3Attention Attention(ParameterLoader p, Sd3TransformerConfig c, string prefix, bool joint, bool hasAddOut)
    {
        int d = c.InnerDim;
        Parameter? Norm(string name) => c.QkRmsNorm ? p.Dense(prefix + name + ".weight", [c.HeadDim]) : null;
        return new Sd3Attention
        {
            ToQ = p.Linear(prefix + "to_q", d, d, true),
            ToK = p.Linear(prefix + "to_k", d, d, true),
            ToV = p.Linear(prefix + "to_v", d, d, true),
            ToOut = p.Linear(prefix + "to_out.0", d, d, true),
            NormQ = Norm("norm_q"),
            NormK = Norm("norm_k"),
            AddQ = joint ? p.Linear(prefix + "add_q_proj", d, d, true) : null,
            AddK = joint ? p.Linear(prefix + "add_k_proj", d, d, true) : null,
            AddV = joint ? p.Linear(prefix + "add_v_proj", d, d, true) : null,
            AddOut = hasAddOut ? p.Linear(prefix + "to_add_out", d, d, true) : null,
            NormAddedQ = joint ? Norm("norm_added_q") : null,
            NormAddedK = joint ? Norm("norm_added_k") : null,
        };
    }
}
