using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// The mid block's self-attention (diffusers' Attention with group_norm, one head of width C, residual_connection,
/// rescale_output_factor 1, AttnProcessor2_0): over the H·W pixels as tokens,
/// y = x + to_out(softmax(q·kᵀ/√C)·v) with q, k, v = to_q/to_k/to_v(GroupNorm(x)).
/// </summary>
sealed class MidBlockAttention : IDisposable
{
    public required GroupNormLayer GroupNorm { get; init; }
    public required ILinear ToQ { get; init; }
    public required ILinear ToK { get; init; }
    public required ILinear ToV { get; init; }
    public required ILinear ToOut { get; init; }

    /// <summary>
    /// Old diffusers checkpoints name the projections query/key/value/proj_attn; diffusers renames them on load
    /// (ModelMixin._fix_state_dict_keys_on_load) and so do we.
    /// </summary>
    static readonly (string Current, string Legacy)[] Projections =
        [("to_q", "query"), ("to_k", "key"), ("to_v", "value"), ("to_out.0", "proj_attn")];

    public static MidBlockAttention Load(ParameterLoader p, string prefix, int channels, int groups)
    {
        ILinear Projection(int i)
        {
            var (current, legacy) = Projections[i];
            var names = p.Checkpoint.Tensors;
            bool old = !names.Contains($"{prefix}.{current}.weight") && names.Contains($"{prefix}.{legacy}.weight");
            return p.Linear($"{prefix}.{(old ? legacy : current)}", channels, channels, hasBias: true);
        }
        return new MidBlockAttention
        {
            GroupNorm = GroupNormLayer.Load(p, prefix + ".group_norm", channels, groups),
            ToQ = Projection(0), ToK = Projection(1), ToV = Projection(2), ToOut = Projection(3),
        };
    }

    /// <summary>The block's output, a new buffer of x's shape; x is left as it was.</summary>
    public DeviceTensor Forward(ForwardContext context, DeviceTensor x, ImageShape shape)
    {
        var backend = context.Backend;
        int batch = shape.Batch, channels = shape.Channels, tokens = shape.Spatial, rows = batch * tokens;
        long count = shape.Count;
        using var normed = Activations.New(backend, count);
        using var sequence = Activations.New(backend, count);
        using var k = Activations.New(backend, count);
        using var v = Activations.New(backend, count);
        GroupNorm.Forward(context, x, shape, normed);
        backend.Permute(normed, sequence, [batch, channels, tokens], [0, 2, 1]); // [B, C, HW] → [B, HW, C]
        var q = normed;
        ToQ.Forward(context, sequence, rows, q);
        ToK.Forward(context, sequence, rows, k);
        ToV.Forward(context, sequence, rows, v);
        var attended = sequence;
        backend.Attention(q, k, v, bias: null, attended, batch, tokens, tokens, heads: 1, headDim: channels);
        var projected = q;
        ToOut.Forward(context, attended, rows, projected);
        var y = Activations.New(backend, count);
        backend.Permute(projected, y, [batch, tokens, channels], [0, 2, 1]); // back to NCHW
        backend.AddInPlace(y, x, count);
        return y;
    }

    public IEnumerable<Parameter> Parameters =>
        GroupNorm.Parameters.Concat(ToQ.Parameters).Concat(ToK.Parameters).Concat(ToV.Parameters).Concat(ToOut.Parameters);

    public IEnumerable<ILinear> Linears => [ToQ, ToK, ToV, ToOut];

    public void Dispose()
    {
        GroupNorm.Dispose(); ToQ.Dispose(); ToK.Dispose(); ToV.Dispose(); ToOut.Dispose();
    }
}
