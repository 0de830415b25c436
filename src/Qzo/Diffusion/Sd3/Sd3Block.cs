using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Diffusion.Sd3;

/// <summary>
/// diffusers' JointTransformerBlock (MMDiT). With m = norm1.linear(SiLU(temb)) in chunks shift, scale, gate (attention),
/// shift, scale, gate (MLP) and, in a dual block (SD35AdaLayerNormZeroX), shift2, scale2, gate2, and LN = LayerNorm without
/// affine (eps 1e-6):
/// <code>
/// n = LN(x)·(1 + scale) + shift;   n_c likewise from c with norm1_context's chunks
/// x += gate · attn_image,  c += c_gate · attn_text      (joint attention over [image, text])
/// x += gate2 · attn2(LN(x₀)·(1 + scale2) + shift2)     (dual blocks; x₀ the block's input)
/// x += gate_mlp · ff(LN(x)·(1 + scale_mlp) + shift_mlp), c likewise with ff_context
/// </code>
/// ff = Linear(D→4D) → GELU(tanh) → Linear(4D→D). The last block (context pre-only) modulates c with an
/// AdaLayerNormContinuous (chunks scale, shift) and returns no c.
/// </summary>
sealed class Sd3Block : IDisposable
{
    public required bool Dual { get; init; }
    public required bool ContextPreOnly { get; init; }
    /// <summary>norm1.linear: D → 6D, or 9D in a dual block.</summary>
    public required ILinear Norm1 { get; init; }
    /// <summary>norm1_context.linear: D → 6D, or 2D (scale, shift) in the last block.</summary>
    public required ILinear Norm1Context { get; init; }
    public required Sd3Attention Attention { get; init; }
    public Sd3Attention? Attention2 { get; init; }
    public required ILinear FeedForwardIn { get; init; }
    public required ILinear FeedForwardOut { get; init; }
    public ILinear? ContextFeedForwardIn { get; init; }
    public ILinear? ContextFeedForwardOut { get; init; }

    public int ModulationChunks => Dual ? 9 : 6;
    public int ContextModulationChunks => ContextPreOnly ? 2 : 6;

    public IEnumerable<ILinear> Linears =>
        new[] { Norm1, Norm1Context, FeedForwardIn, FeedForwardOut, ContextFeedForwardIn, ContextFeedForwardOut }.OfType<ILinear>()
            .Concat(Attention.Linears).Concat(Attention2?.Linears ?? []);
    public IEnumerable<Parameter> Norms => Attention.Norms.Concat(Attention2?.Norms ?? []);

    /// <summary>
    /// The linears in JointTransformerBlock.__init__'s registration order (named_parameters()): norm1, norm1_context, attn,
    /// attn2, ff, ff_context.
    /// </summary>
    public IEnumerable<ILinear> LinearsInModuleOrder =>
        new[] { Norm1, Norm1Context }.Concat(Attention.LinearsInModuleOrder).Concat(Attention2?.LinearsInModuleOrder ?? [])
            .Concat(new[] { FeedForwardIn, FeedForwardOut, ContextFeedForwardIn, ContextFeedForwardOut }.OfType<ILinear>());

    /// <summary>Updates <c>a.Image</c> and (unless context pre-only) <c>a.Text</c> in place.</summary>
    public void Forward(ForwardContext context, Sd3Activations a, Sd3TransformerConfig c)
    {
        var b = context.Backend;
        int d = c.InnerDim, batch = a.Batch, n = a.ImageTokens, t = a.TextTokens;
        float eps = Sd3TransformerConfig.NormEps;

        Norm1.Forward(context, a.SiluTemb, batch, a.Modulation);
        var m = MatrixView.Of(a.Modulation, ModulationChunks * d);
        MatrixView Chunk(int k) => m.At(0, k * d);
        b.LayerNorm(a.Image, null, null, a.ImageNormed2, batch * n, d, eps);
        b.Modulate(a.ImageNormed2, Chunk(0), Chunk(1), a.ImageNormed, batch, n, d);
        if (Dual) b.Modulate(a.ImageNormed2, Chunk(6), Chunk(7), a.ImageNormed2, batch, n, d);

        Norm1Context.Forward(context, a.SiluTemb, batch, a.ContextModulation);
        var cm = MatrixView.Of(a.ContextModulation, ContextModulationChunks * d);
        MatrixView ContextChunk(int k) => cm.At(0, k * d);
        b.LayerNorm(a.Text, null, null, a.TextNormed, batch * t, d, eps);
        if (ContextPreOnly) b.Modulate(a.TextNormed, ContextChunk(1), ContextChunk(0), a.TextNormed, batch, t, d);
        else b.Modulate(a.TextNormed, ContextChunk(0), ContextChunk(1), a.TextNormed, batch, t, d);

        Attention.Joint(context, a, c);
        b.GatedAddInPlace(a.Image, Chunk(2), a.ImageNormed, batch, n, d);
        if (Dual)
        {
            Attention2!.Self(context, a, a.ImageNormed2, a.ImageNormed, c);
            b.GatedAddInPlace(a.Image, Chunk(8), a.ImageNormed, batch, n, d);
        }
        FeedForward(context, a, a.Image, n, Chunk(3), Chunk(4), Chunk(5), FeedForwardIn, FeedForwardOut, a.ImageNormed, c);

        if (ContextPreOnly) return;
        b.GatedAddInPlace(a.Text, ContextChunk(2), a.TextNormed, batch, t, d);
        FeedForward(context, a, a.Text, t, ContextChunk(3), ContextChunk(4), ContextChunk(5), ContextFeedForwardIn!, ContextFeedForwardOut!,
                    a.TextNormed, c);
    }

    /// <summary>x += gate · ff(LN(x)·(1 + scale) + shift) over x [batch, tokens, D]; <paramref name="scratch"/> is x-sized.</summary>
    static void FeedForward(ForwardContext context, Sd3Activations a, DeviceTensor x, int tokens, MatrixView shift, MatrixView scale,
                            MatrixView gate, ILinear up, ILinear down, DeviceTensor scratch, Sd3TransformerConfig c)
    {
        var b = context.Backend;
        int d = c.InnerDim, rows = a.Batch * tokens;
        b.LayerNorm(x, null, null, scratch, rows, d, Sd3TransformerConfig.NormEps);
        b.Modulate(scratch, shift, scale, scratch, a.Batch, tokens, d);
        up.Forward(context, scratch, rows, a.Hidden);
        b.ActivationInPlace(a.Hidden, Activation.GeluTanh, (long)rows * up.OutFeatures);
        down.Forward(context, a.Hidden, rows, scratch);
        b.GatedAddInPlace(x, gate, scratch, a.Batch, tokens, d);
    }

    public void Dispose()
    {
        foreach (var linear in Linears) linear.Dispose();
        foreach (var norm in Norms) norm.Dispose();
    }
}
