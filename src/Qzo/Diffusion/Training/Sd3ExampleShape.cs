using Qzo.Diffusion.Sd3;
using Qzo.Numerics;

namespace Qzo.Diffusion.Training;

/// <summary>
/// Checks a cached pair against the transformer it will meet, and against the others of its forward batch, when it is
/// used (a cache read lazily from disk is not walked in full up front). A mismatch is one line naming the example.
/// </summary>
static class Sd3ExampleShape
{
    public static void Require(CachedImageCaption e, Sd3TransformerConfig c, string transformer)
    {
        string Where() => $"cached example '{e.Source}'";
        long latent = (long)e.LatentChannels * e.LatentHeight * e.LatentWidth;
        if (e.LatentChannels != c.InChannels || c.InChannels != c.OutChannels)
            throw new QzoException($"{Where()}: {e.LatentChannels} latent channels, but {transformer} takes {c.InChannels}");
        if (e.LatentMean.LongLength != latent || e.LatentStd.LongLength != latent)
            throw new QzoException($"{Where()}: the latent mean/std hold {e.LatentMean.LongLength}/{e.LatentStd.LongLength} values, " +
                                   $"not {e.LatentChannels}×{e.LatentHeight}×{e.LatentWidth}");
        if (e.LatentHeight <= 0 || e.LatentWidth <= 0 || e.LatentHeight % c.PatchSize != 0 || e.LatentWidth % c.PatchSize != 0)
            throw new QzoException($"{Where()}: latents of {e.LatentHeight}×{e.LatentWidth} do not divide into " +
                                   $"{c.PatchSize}×{c.PatchSize} " +
                                   "patches");
        if (e.LatentHeight / c.PatchSize > c.PosEmbedMaxSize || e.LatentWidth / c.PatchSize > c.PosEmbedMaxSize)
            throw new QzoException($"{Where()}: latents of {e.LatentHeight}×{e.LatentWidth} are larger than {transformer}'s positional " +
                                   $"table ({c.PosEmbedMaxSize * c.PatchSize} latent pixels a side)");
        if (e.JointDim != c.JointAttentionDim || e.PromptTokens <= 0 || e.PromptEmbeds.LongLength != (long)e.PromptTokens * e.JointDim)
            throw new QzoException($"{Where()}: prompt embeddings of {e.PromptTokens}×{e.JointDim} ({e.PromptEmbeds.LongLength} values); " +
                                   $"{transformer} takes joint_attention_dim {c.JointAttentionDim}");
        if (e.PooledEmbeds.Length != c.PooledProjectionDim)
            throw new QzoException($"{Where()}: a pooled embedding of {e.PooledEmbeds.Length} values; {transformer} takes " +
                                   $"{c.PooledProjectionDim}");
        if (NonFinite(e.LatentMean) + NonFinite(e.LatentStd) + NonFinite(e.PromptEmbeds) + NonFinite(e.PooledEmbeds) > 0)
            throw new QzoException($"{Where()}: non-finite values (NaN/Inf) in its cached tensors");
    }

    static long NonFinite(float[] values) =>
        NonFiniteValues.Count(DType.F32, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));

    /// <summary>The examples of one forward pass must share the latent size and the prompt length.</summary>
    public static void RequireSame(CachedImageCaption first, CachedImageCaption other)
    {
        if (other.LatentHeight != first.LatentHeight || other.LatentWidth != first.LatentWidth || other.PromptTokens != first.PromptTokens)
            throw new QzoException(
                $"cached example '{other.Source}': latents {other.LatentHeight}×{other.LatentWidth} and {other.PromptTokens} prompt " +
                $"tokens, but '{first.Source}' has {first.LatentHeight}×{first.LatentWidth} and {first.PromptTokens}; one run needs one " +
                "resolution and " +
                "one prompt length");
    }
}
