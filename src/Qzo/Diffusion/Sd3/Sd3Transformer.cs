using Qzo.Compute;
using Qzo.Models;
using Qzo.Numerics;

namespace Qzo.Diffusion.Sd3;

/// <summary>
/// Called with each named intermediate of a forward pass, as diffusers' module outputs are named in the parity fixtures
/// (tests/fixtures/sd3/transformer-*): pos_embed [B, n, D], temb [B, D], context [B, t, D], block.{i}.hidden_states,
/// block.{i}.encoder_hidden_states (none for the last block), norm_out [B, n, D]. Values are valid only during the call.
/// </summary>
public delegate void Sd3Probe(string name, DeviceTensor values, long count);

/// <summary>
/// diffusers' SD3Transformer2DModel (v0.39.0), the denoiser of SD3 and SD3.5: latents [B, C, H, W] in, the predicted
/// velocity [B, C, H, W] out, conditioned on the text tokens [B, t, joint_attention_dim], the pooled text embedding
/// [B, pooled_projection_dim] and the timestep 1000·σ.
/// <code>
/// x    = tokens(Conv2d_p×p(latents)) + crop(pos_embed)            [B, n, D], n = (H/p)·(W/p), token = row·(W/p) + col
/// temb = linear_2(SiLU(linear_1(sinusoid(t)))) + text_embedder(pooled)
/// c    = context_embedder(encoder_hidden_states)
/// for each block: (x, c) = JointTransformerBlock(x, c, temb)        (Sd3Block)
/// out  = proj_out(LN(x)·(1 + scale) + shift),  (scale, shift) = norm_out.linear(SiLU(temb))
/// velocity = unpatchify(out): [B, h, w, p, p, C] → [B, C, h, p, w, p]
/// </code>
/// Every nn.Linear loads through <see cref="ParameterLoader.Linear"/>, so bitsandbytes NF4 transformers run the same
/// code. Activations are in the backend's compute type.
/// </summary>
public sealed class Sd3Transformer : IDisposable
{
    ForwardScratch? _scratch;
    Sd3Activations? _activations;

    internal Sd3Transformer(Sd3TransformerConfig config, IBackend backend, string source)
    {
        Config = config;
        Backend = backend;
        Source = source;
    }

    public Sd3TransformerConfig Config { get; }
    public IBackend Backend { get; }
    /// <summary>The checkpoint folder, for error messages.</summary>
    public string Source { get; }

    internal Parameter PatchWeight { get; init; } = null!;
    internal Parameter PatchBias { get; init; } = null!;
    /// <summary>pos_embed.pos_embed, [M², D] as stored.</summary>
    internal Parameter PositionTable { get; init; } = null!;
    internal ILinear TimestepLinear1 { get; init; } = null!;
    internal ILinear TimestepLinear2 { get; init; } = null!;
    internal ILinear TextLinear1 { get; init; } = null!;
    internal ILinear TextLinear2 { get; init; } = null!;
    internal ILinear ContextEmbedder { get; init; } = null!;
    internal IReadOnlyList<Sd3Block> Blocks { get; init; } = [];
    internal ILinear NormOut { get; init; } = null!;
    internal ILinear ProjOut { get; init; } = null!;

    public IEnumerable<ILinear> AllLinears =>
        new[] { TimestepLinear1, TimestepLinear2, TextLinear1, TextLinear2, ContextEmbedder }
            .Concat(Blocks.SelectMany(b => b.Linears)).Concat([NormOut, ProjOut]);

    /// <summary>
    /// The linears in the order diffusers' SD3Transformer2DModel.named_parameters() meets them (modules in registration
    /// order: time_text_embed's timestep then text embedder, context_embedder, the blocks, norm_out, proj_out).
    /// </summary>
    public IEnumerable<ILinear> LinearsInModuleOrder =>
        new[] { TimestepLinear1, TimestepLinear2, TextLinear1, TextLinear2, ContextEmbedder }
            .Concat(Blocks.SelectMany(b => b.LinearsInModuleOrder)).Concat([NormOut, ProjOut]);

    /// <summary>Every tensor outside the linears: the patch convolution, the positional table, the q/k RMSNorm weights.</summary>
    public IEnumerable<Parameter> OtherParameters =>
        new[] { PatchWeight, PatchBias, PositionTable }.Concat(Blocks.SelectMany(b => b.Norms));

    public static Sd3Transformer Load(string folder, IBackend backend) => Sd3TransformerLoader.Load(folder, backend);

    /// <summary>
    /// velocity [B, out_channels, H, W] for latents [B, in_channels, H, W], encoderHiddenStates [B, t, joint_attention_dim] and
    /// pooled [B, pooled_projection_dim], all in the compute type, and one timestep per sample (1000·σ).
    /// </summary>
    public void Forward(ForwardContext context, DeviceTensor latents, DeviceTensor encoderHiddenStates, DeviceTensor pooled,
                        ReadOnlySpan<float> timesteps, DeviceTensor velocity, int batch, int height, int width, int textTokens,
                        Sd3Probe? probe = null)
    {
        var c = Config; var b = Backend;
        int p = c.PatchSize, d = c.InnerDim;
        CheckShapes(latents, encoderHiddenStates, pooled, timesteps.Length, velocity, batch, height, width, textTokens);
        int rows = height / p, columns = width / p, n = rows * columns;
        var (top, left) = Sd3PositionTable.CropOffsets(c.PosEmbedMaxSize, rows, columns, Source);
        var a = Activations(batch, n, textTokens);

        // Patch embedding: [B, D, h, w] → tokens [B, n, D], plus the table's h×w window (one row of tokens per table row).
        b.Conv2d(latents, context.Resolve(PatchWeight), context.ResolveBias(PatchBias), a.ImageScratch, batch, c.InChannels, height, width,
                 d, p, p, Padding2d.Same(0));
        b.Permute(a.ImageScratch, a.Image, [batch, d, n], [0, 2, 1]);
        int m = c.PosEmbedMaxSize;
        var window = new MatrixView(context.Resolve(PositionTable), ((long)top * m + left) * d, m * d);
        b.CopyMatrix(window, MatrixView.Of(a.ImageNormed, columns * d), rows, columns * d);
        b.AddBiasInPlace(a.Image, a.ImageNormed, batch, n * d);
        probe?.Invoke("pos_embed", a.Image, (long)batch * n * d);

        TimeTextEmbedding(context, a, pooled, timesteps);
        probe?.Invoke("temb", a.Temb, (long)batch * d);
        ContextEmbedder.Forward(context, encoderHiddenStates, batch * textTokens, a.Text);
        probe?.Invoke("context", a.Text, (long)batch * textTokens * d);

        for (int i = 0; i < Blocks.Count; i++)
        {
            Blocks[i].Forward(context, a, c);
            probe?.Invoke($"block.{i}.hidden_states", a.Image, (long)batch * n * d);
            if (!Blocks[i].ContextPreOnly) probe?.Invoke($"block.{i}.encoder_hidden_states", a.Text, (long)batch * textTokens * d);
        }

        // norm_out: AdaLayerNormContinuous, chunks scale then shift.
        NormOut.Forward(context, a.SiluTemb, batch, a.Modulation);
        var chunks = MatrixView.Of(a.Modulation, 2 * d);
        b.LayerNorm(a.Image, null, null, a.ImageNormed, batch * n, d, Sd3TransformerConfig.NormEps);
        b.Modulate(a.ImageNormed, chunks.At(0, d), chunks, a.ImageNormed, batch, n, d);
        probe?.Invoke("norm_out", a.ImageNormed, (long)batch * n * d);

        using var patches = b.Allocate(b.ComputeType, (long)batch * n * c.PatchOutputWidth, MemoryCategory.Activations);
        ProjOut.Forward(context, a.ImageNormed, batch * n, patches);
        b.Permute(patches, velocity, [batch, rows, columns, p, p, c.OutChannels], [0, 5, 1, 3, 2, 4]);
    }

    /// <summary>temb = timestep_embedder(sinusoid(t)) + text_embedder(pooled); also SiLU(temb) for the adaptive norms.</summary>
    void TimeTextEmbedding(ForwardContext context, Sd3Activations a, DeviceTensor pooled, ReadOnlySpan<float> timesteps)
    {
        var b = Backend;
        int batch = a.Batch; long d = Config.InnerDim;
        // The sinusoid is computed in fp32 and cast to the pooled projection's dtype, as diffusers does.
        var sinusoid = Sd3TimestepSinusoid.Compute(timesteps);
        using var projected = b.Allocate(b.ComputeType, sinusoid.Length, MemoryCategory.Activations);
        if (b.ComputeType == DType.F32) b.Upload<float>(projected, sinusoid);
        else b.Upload<byte>(projected, DTypes.FromSingle(b.ComputeType, sinusoid));

        TimestepLinear1.Forward(context, projected, batch, a.ImageScratch);
        b.ActivationInPlace(a.ImageScratch, Activation.Silu, batch * d);
        TimestepLinear2.Forward(context, a.ImageScratch, batch, a.Temb);
        TextLinear1.Forward(context, pooled, batch, a.ImageScratch);
        b.ActivationInPlace(a.ImageScratch, Activation.Silu, batch * d);
        TextLinear2.Forward(context, a.ImageScratch, batch, a.TextScratch);
        b.AddInPlace(a.Temb, a.TextScratch, batch * d);
        b.Copy(a.Temb, a.SiluTemb, batch * d);
        b.ActivationInPlace(a.SiluTemb, Activation.Silu, batch * d);
    }

    void CheckShapes(DeviceTensor latents, DeviceTensor encoderHiddenStates, DeviceTensor pooled, int timesteps, DeviceTensor velocity,
                     int batch, int height, int width, int textTokens)
    {
        var c = Config;
        if (batch <= 0 || textTokens <= 0) throw new ArgumentException($"batch ({batch}) and text tokens ({textTokens}) must be positive");
        if (height <= 0 || width <= 0 || height % c.PatchSize != 0 || width % c.PatchSize != 0)
            throw new QzoException($"{Source}: latents of {height}×{width} do not divide into {c.PatchSize}×{c.PatchSize} patches");
        if (timesteps != batch) throw new ArgumentException($"{timesteps} timesteps for a batch of {batch}");
        void Require(DeviceTensor t, long length, string what)
        {
            if (t.Length < length)
                throw new ArgumentException($"{what} holds {t.Length} elements, fewer than the {length} its shape needs");
        }
        Require(latents, (long)batch * c.InChannels * height * width, "latents");
        Require(encoderHiddenStates, (long)batch * textTokens * c.JointAttentionDim, "encoder_hidden_states");
        Require(pooled, (long)batch * c.PooledProjectionDim, "pooled_projections");
        Require(velocity, (long)batch * c.OutChannels * height * width, "velocity");
    }

    Sd3Activations Activations(int batch, int imageTokens, int textTokens)
    {
        if (_activations is not null && _activations.Fits(batch, imageTokens, textTokens)) return _activations;
        _activations?.Dispose();
        _activations = null; // not left pointing at freed buffers if the allocation below fails
        _activations = new Sd3Activations(Backend, Config, batch, imageTokens, textTokens);
        return _activations;
    }

    /// <summary>
    /// A forward context whose weight scratch holds the largest matrix a pass must resolve (a dequantized or perturbed linear,
    /// the convolution, or the positional table when it is not stored in the compute type), allocated at the first call.
    /// </summary>
    public ForwardContext Context(Perturbation perturbation) =>
        (_scratch ??= new ForwardScratch(Backend, ScratchSizes)).Context(perturbation);

    (long Weights, long Vectors) ScratchSizes()
    {
        var linears = AllLinears.ToList();
        long weights = linears.Max(l => (long)l.InFeatures * l.OutFeatures);
        foreach (var parameter in OtherParameters)
            if (parameter.TrainableIndex is not null || parameter.Values.DType != Backend.ComputeType)
                weights = Math.Max(weights, parameter.Length);
        return (weights, Math.Max(Config.InnerDim, linears.Max(l => l.OutFeatures)));
    }

    public void Dispose()
    {
        _activations?.Dispose();
        foreach (var linear in AllLinears) linear.Dispose();
        foreach (var parameter in OtherParameters) parameter.Dispose();
        _scratch?.Dispose();
    }
}
