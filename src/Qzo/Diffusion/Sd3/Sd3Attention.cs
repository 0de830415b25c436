using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Sd3;

/// <summary>
/// One diffusers Attention of an SD3 block with JointAttnProcessor2_0: to_q/k/v and to_out.0 on the image tokens, and for
/// the joint attention (`attn`) add_q/k/v_proj on the text tokens plus to_add_out (absent in the last block, whose text
/// output is dropped). With qk_norm "rms_norm", norm_q/k (and norm_added_q/k) are RMSNorms over each head's head_dim.
/// </summary>
sealed class Sd3Attention : IDisposable
{
    public required ILinear ToQ { get; init; }
    public required ILinear ToK { get; init; }
    public required ILinear ToV { get; init; }
    public required ILinear ToOut { get; init; }
    public Parameter? NormQ { get; init; }
    public Parameter? NormK { get; init; }
    public ILinear? AddQ { get; init; }
    public ILinear? AddK { get; init; }
    public ILinear? AddV { get; init; }
    public ILinear? AddOut { get; init; }
    public Parameter? NormAddedQ { get; init; }
    public Parameter? NormAddedK { get; init; }

    public IEnumerable<ILinear> Linears =>
        new[] { ToQ, ToK, ToV, ToOut, AddQ, AddK, AddV, AddOut }.OfType<ILinear>();
    public IEnumerable<Parameter> Norms => new[] { NormQ, NormK, NormAddedQ, NormAddedK }.OfType<Parameter>();

    /// <summary>
    /// The linears in the order diffusers' Attention.__init__ registers them, which named_parameters() follows: to_q, to_k,
    /// to_v, add_k_proj, add_v_proj, add_q_proj, to_out.0, to_add_out.
    /// </summary>
    public IEnumerable<ILinear> LinearsInModuleOrder => new[] { ToQ, ToK, ToV, AddK, AddV, AddQ, ToOut, AddOut }.OfType<ILinear>();

    /// <summary>
    /// Joint attention over [image tokens, text tokens] of each sample, as one sequence of n + t: the image stream's
    /// q/k/v from <c>a.ImageNormed</c>, the text stream's from <c>a.TextNormed</c>, written into <c>a.Q/K/V</c>
    /// [batch, n + t, width] (image rows first), attended without a mask, split back. Leaves to_out.0(image part) in
    /// <c>a.ImageNormed</c> and, when to_add_out exists, to_add_out(text part) in <c>a.TextNormed</c>.
    /// </summary>
    public void Joint(ForwardContext context, Sd3Activations a, Sd3TransformerConfig c)
    {
        var b = context.Backend;
        int width = c.InnerDim, n = a.ImageTokens, t = a.TextTokens, s = n + t, batch = a.Batch;
        foreach (var (image, imageNorm, text, textNorm, joint) in new[]
                 {
                     (ToQ, NormQ, AddQ!, NormAddedQ, a.Q), (ToK, NormK, AddK!, NormAddedK, a.K), (ToV, (Parameter?)null, AddV!, null, a.V),
                 })
        {
            Project(context, image, imageNorm, a.ImageNormed, batch * n, a.ImageScratch, c);
            b.CopyMatrix(MatrixView.Of(a.ImageScratch, n * width), new MatrixView(joint, 0, s * width), batch, n * width);
            Project(context, text, textNorm, a.TextNormed, batch * t, a.TextScratch, c);
            b.CopyMatrix(MatrixView.Of(a.TextScratch, t * width), new MatrixView(joint, (long)n * width, s * width), batch, t * width);
        }
        b.Attention(a.Q, a.K, a.V, null, a.Attended, batch, s, s, c.Heads, c.HeadDim);

        b.CopyMatrix(new MatrixView(a.Attended, 0, s * width), MatrixView.Of(a.ImageScratch, n * width), batch, n * width);
        ToOut.Forward(context, a.ImageScratch, batch * n, a.ImageNormed);
        if (AddOut is null) return;
        b.CopyMatrix(new MatrixView(a.Attended, (long)n * width, s * width), MatrixView.Of(a.TextScratch, t * width), batch, t * width);
        AddOut.Forward(context, a.TextScratch, batch * t, a.TextNormed);
    }

    /// <summary>
    /// Self-attention over the image tokens in <paramref name="x"/> (attn2 of a dual block); to_out.0 of it into <paramref name="y"/>.
    /// </summary>
    public void Self(ForwardContext context, Sd3Activations a, DeviceTensor x, DeviceTensor y, Sd3TransformerConfig c)
    {
        int rows = a.Batch * a.ImageTokens;
        Project(context, ToQ, NormQ, x, rows, a.Q, c);
        Project(context, ToK, NormK, x, rows, a.K, c);
        Project(context, ToV, null, x, rows, a.V, c);
        context.Backend.Attention(a.Q, a.K, a.V, null, a.Attended, a.Batch, a.ImageTokens, a.ImageTokens, c.Heads, c.HeadDim);
        ToOut.Forward(context, a.Attended, rows, y);
    }

    static void Project(ForwardContext context, ILinear projection, Parameter? headNorm, DeviceTensor x, int rows, DeviceTensor y,
                        Sd3TransformerConfig c)
    {
        projection.Forward(context, x, rows, y);
        if (headNorm is not null)
            context.Backend.RmsNorm(y, context.ResolveVector(headNorm), y, rows * c.Heads, c.HeadDim, Sd3TransformerConfig.NormEps);
    }

    public void Dispose()
    {
        foreach (var linear in Linears) linear.Dispose();
        foreach (var norm in Norms) norm.Dispose();
    }
}
