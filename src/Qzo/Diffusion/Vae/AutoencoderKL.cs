using Qzo.Compute;
using Qzo.Models;
using Qzo.Numerics;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// diffusers' AutoencoderKL (v0.39.0; SD3's 16-channel VAE, and SD1/SDXL's with quant_conv and post_quant_conv):
/// images [B, in_channels, H, W] in [−1, 1] to a Gaussian posterior over latents [B, latent_channels, H/f, W/f]
/// (f = <see cref="VaeConfig.DownscaleFactor"/>) and back. Frozen: its weights never train. Activations are allocated
/// block by block and freed as soon as the next block's output exists, so a 1024² decode holds a few full-size
/// tensors at a time. The latents the diffusion model sees are (z − shift_factor)·scaling_factor
/// (<see cref="SampleLatents"/>, <see cref="ModeLatents"/>); <see cref="DecodeLatents"/> undoes that before decoding,
/// as SD3's pipeline does. latents_mean/latents_std, which some other pipelines use, are not applied.
/// </summary>
public sealed class AutoencoderKL : IDisposable
{
    ForwardScratch? _scratch;

    AutoencoderKL(VaeConfig config, IBackend backend, VaeEncoder encoder, VaeDecoder decoder, Conv2dLayer? quantConv,
                  Conv2dLayer? postQuantConv)
    {
        Config = config;
        Backend = backend;
        Encoder = encoder;
        Decoder = decoder;
        QuantConv = quantConv;
        PostQuantConv = postQuantConv;
    }

    public VaeConfig Config { get; }
    public IBackend Backend { get; }
    internal VaeEncoder Encoder { get; }
    internal VaeDecoder Decoder { get; }
    internal Conv2dLayer? QuantConv { get; }
    internal Conv2dLayer? PostQuantConv { get; }

    float Scale => (float)Config.ScalingFactor;
    float Shift => (float)(Config.ShiftFactor ?? 0);

    /// <summary>Loads a diffusers vae/ folder (config.json, diffusion_pytorch_model.safetensors); refuses leftover tensors.</summary>
    public static AutoencoderKL Load(string folder, IBackend backend)
    {
        using var checkpoint = Checkpoint.OpenComponent(folder);
        return Load(checkpoint, VaeConfig.Load(Path.Combine(folder, "config.json")), backend);
    }

    internal static AutoencoderKL Load(Checkpoint checkpoint, VaeConfig c, IBackend backend)
    {
        VaeLayout.RefuseOriginalLayout(checkpoint);
        var p = new ParameterLoader(checkpoint, backend, TrainingScope.None);
        var encoder = VaeEncoder.Load(p, c);
        var decoder = VaeDecoder.Load(p, c);
        var quantConv = c.UseQuantConv ? Conv2dLayer.Load(p, "quant_conv", 2 * c.LatentChannels, 2 * c.LatentChannels, 1) : null;
        var postQuantConv = c.UsePostQuantConv ? Conv2dLayer.Load(p, "post_quant_conv", c.LatentChannels, c.LatentChannels, 1) : null;
        var model = new AutoencoderKL(c, backend, encoder, decoder, quantConv, postQuantConv);
        var unused = p.Unused();
        if (unused.Count > 0)
        {
            model.Dispose();
            string names = string.Join(", ", unused.Take(5)) + (unused.Count > 5 ? ", ..." : "");
            throw new QzoException($"{checkpoint.Directory}: {unused.Count} tensor{(unused.Count == 1 ? "" : "s")} that an " +
                                   $"{VaeConfig.ClassName} with this config.json does not have: {names}");
        }
        return model;
    }

    /// <summary>
    /// Encodes images [B, in_channels, H, W] (compute type, in [−1, 1]) into the posterior over their latents;
    /// <paramref name="observe"/> sees "encoder.mid_block".
    /// </summary>
    public VaePosterior Encode(ForwardContext context, DeviceTensor image, ImageShape shape, VaeObserver? observe = null)
    {
        RequireChannels(shape, Config.InChannels, "image");
        var moments = Encoder.Forward(context, image, ref shape, observe);
        if (QuantConv is not null) moments = Activations.Replace(moments, QuantConv.Forward(context, moments, shape));
        using (moments) return VaePosterior.FromMoments(HostFloats.Download(Backend, moments, shape.Count), shape);
    }

    /// <summary>
    /// Latents for training, (mean + std·ε − shift_factor)·scaling_factor, with ε standard normal from the backend's
    /// Philox stream (<paramref name="seed"/>, <paramref name="stream"/>): a new buffer of <see cref="VaePosterior.Shape"/>.
    /// </summary>
    public DeviceTensor SampleLatents(VaePosterior posterior, ulong seed, int stream)
    {
        long count = posterior.Shape.Count;
        float[] epsilon;
        using (var noise = Backend.Allocate(DType.F32, count, MemoryCategory.Workspace))
        {
            Backend.FillRandom(noise, RandomFill.Gaussian, seed, stream, 0f, 1f, count);
            epsilon = HostFloats.Download(Backend, noise, count);
        }
        var z = new float[count];
        for (long i = 0; i < count; i++) z[i] = (posterior.Mean[i] + posterior.Std(i) * epsilon[i] - Shift) * Scale;
        return HostFloats.Upload(Backend, z, MemoryCategory.Activations);
    }

    /// <summary>The posterior's mode as diffusion latents, (mean − shift_factor)·scaling_factor.</summary>
    public DeviceTensor ModeLatents(VaePosterior posterior) =>
        HostFloats.Upload(Backend, posterior.Mean.Select(m => (m - Shift) * Scale).ToArray(), MemoryCategory.Activations);

    /// <summary>
    /// The raw decoder (diffusers' vae.decode): latents [B, latent_channels, h, w] as the posterior gives them, no
    /// scaling, to images [B, out_channels, f·h, f·w] (new buffer); <paramref name="observe"/> sees "decoder.mid_block".
    /// </summary>
    public DeviceTensor Decode(ForwardContext context, DeviceTensor latents, ImageShape shape, VaeObserver? observe = null)
    {
        RequireChannels(shape, Config.LatentChannels, "latents");
        if (PostQuantConv is null) return Decoder.Forward(context, latents, ref shape, observe);
        using var z = PostQuantConv.Forward(context, latents, shape);
        return Decoder.Forward(context, z, ref shape, observe);
    }

    /// <summary>Decodes diffusion latents: z/scaling_factor + shift_factor (as SD3's pipeline does), then <see cref="Decode"/>.</summary>
    public DeviceTensor DecodeLatents(ForwardContext context, DeviceTensor latents, ImageShape shape)
    {
        var scaled = HostFloats.Download(Backend, latents, shape.Count);
        for (long i = 0; i < scaled.Length; i++) scaled[i] = scaled[i] / Scale + Shift;
        using var z = HostFloats.Upload(Backend, scaled, MemoryCategory.Activations);
        return Decode(context, z, shape);
    }

    /// <summary>The image shape <see cref="Decode"/> gives for latents of <paramref name="latents"/>' shape.</summary>
    public ImageShape DecodedShape(ImageShape latents) =>
        new(latents.Batch, Config.OutChannels, latents.Height * Config.DownscaleFactor, latents.Width * Config.DownscaleFactor);

    void RequireChannels(ImageShape shape, int expected, string what)
    {
        if (shape.Channels != expected)
            throw new QzoException($"{VaeConfig.ClassName}: {what} of shape {shape} must have {expected} channels");
    }

    IEnumerable<Parameter> DenseParameters => Encoder.Parameters.Concat(Decoder.Parameters)
        .Concat(QuantConv?.Parameters ?? []).Concat(PostQuantConv?.Parameters ?? []);

    IEnumerable<ILinear> Linears =>
        new[] { Encoder.MidBlock.Attention, Decoder.MidBlock.Attention }.SelectMany(a => a?.Linears ?? []);

    /// <summary>A forward context with scratch for weights read perturbed or converted (e.g. an NF4 attention projection).</summary>
    public ForwardContext Context(Perturbation p = default) => (_scratch ??= new ForwardScratch(Backend, ScratchSizes)).Context(p);

    (long Weights, long Vectors) ScratchSizes()
    {
        long weights = DenseParameters.Max(x => x.Length);
        long vectors = DenseParameters.Where(x => x.Shape.Length == 1).Max(x => x.Length);
        foreach (var l in Linears)
        {
            weights = Math.Max(weights, (long)l.InFeatures * l.OutFeatures);
            vectors = Math.Max(vectors, l.OutFeatures);
        }
        return (weights, vectors);
    }

    public void Dispose()
    {
        Encoder.Dispose(); Decoder.Dispose(); QuantConv?.Dispose(); PostQuantConv?.Dispose();
        _scratch?.Dispose();
    }
}
