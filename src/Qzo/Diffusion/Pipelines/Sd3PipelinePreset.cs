using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.Encoders.Clip;
using Qzo.Encoders.T5;

namespace Qzo.Diffusion.Pipelines;

/// <summary>
/// The shapes of a synthesized Stable Diffusion 3.5 pipeline (<see cref="Sd3PipelineSynthesis"/>). "tiny" is for tests
/// and the README demo (a 64 px image in a few seconds on two CPU cores); "medium" and "large" are SD3.5 Medium's and
/// Large's real configs (sd35.md §1) with random weights, for device benchmarks. The text encoders' vocabulary is the
/// synthesized tokenizers' own size where <see cref="ClipVocab"/> / <see cref="T5Vocab"/> is null, the real one otherwise
/// (the tokenizers then use only its first ids).
/// </summary>
public sealed record Sd3PipelinePreset(string Name, Sd3TransformerConfig Transformer, VaeConfig Vae, ClipTextConfig ClipL,
                                       ClipTextConfig ClipG, T5EncoderConfig T5, int? ClipVocab, int? T5Vocab)
{
    public static IReadOnlyList<string> Names { get; } = ["tiny", "medium", "large"];

    public static Sd3PipelinePreset Get(string name) => name.ToLowerInvariant() switch
    {
        "tiny" => Tiny,
        "medium" => Medium,
        "large" => Large,
        _ => throw new QzoException($"--preset '{name}' is not an SD3 preset (supported: {string.Join(", ", Names)})"),
    };

    /// <summary>
    /// CLIP widths 32 + 48 under T5's 96 (so the CLIP features are zero-padded, as SD3's 768 + 1280 under 4096 are),
    /// two heads of 32 in three joint blocks (the first with SD3.5's second attention, the last context-pre-only), and a
    /// four-level VAE, so the latent is 1/8 of the image as in SD3. sample_size 8 makes 64 px the default size;
    /// pos_embed_max_size 32 allows up to 512 px.
    /// </summary>
    public static Sd3PipelinePreset Tiny { get; } = new("tiny",
        new Sd3TransformerConfig
        {
            SampleSize = 8, PatchSize = 2, InChannels = 16, OutChannels = 16, Layers = 3, HeadDim = 32, Heads = 2,
            JointAttentionDim = 96, CaptionProjectionDim = 64, PooledProjectionDim = 32 + 48, PosEmbedMaxSize = 32,
            QkRmsNorm = true, DualAttentionLayers = [0],
        },
        Sd35Vae with { BlockOutChannels = [32, 32, 64, 64], LayersPerBlock = 1 },
        new ClipTextConfig
        {
            VocabSize = 0, HiddenSize = 32, IntermediateSize = 64, Heads = 2, Layers = 2, ProjectionDim = 32, HiddenAct = "quick_gelu",
        },
        new ClipTextConfig
        {
            VocabSize = 0, HiddenSize = 48, IntermediateSize = 96, Heads = 2, Layers = 2, ProjectionDim = 48, HiddenAct = "gelu",
        },
        T5EncoderConfig.StableDiffusion3Xxl with { VocabSize = 0, DModel = 96, DKv = 16, Heads = 4, DFf = 128, Layers = 2 },
        ClipVocab: null, T5Vocab: null);

    public static Sd3PipelinePreset Medium { get; } = Real("medium", new Sd3TransformerConfig
    {
        SampleSize = 128, PatchSize = 2, InChannels = 16, OutChannels = 16, Layers = 24, HeadDim = 64, Heads = 24,
        JointAttentionDim = 4096, CaptionProjectionDim = 1536, PooledProjectionDim = 2048, PosEmbedMaxSize = 384,
        QkRmsNorm = true, DualAttentionLayers = Enumerable.Range(0, 13).ToArray(),
    });

    public static Sd3PipelinePreset Large { get; } = Real("large", new Sd3TransformerConfig
    {
        SampleSize = 128, PatchSize = 2, InChannels = 16, OutChannels = 16, Layers = 38, HeadDim = 64, Heads = 38,
        JointAttentionDim = 4096, CaptionProjectionDim = 2432, PooledProjectionDim = 2048, PosEmbedMaxSize = 192,
        QkRmsNorm = true, DualAttentionLayers = [],
    });

    static Sd3PipelinePreset Real(string name, Sd3TransformerConfig transformer) => new(name, transformer, Sd35Vae,
        ClipTextConfig.StableDiffusion3L, ClipTextConfig.StableDiffusion3G, T5EncoderConfig.StableDiffusion3Xxl,
        ClipVocab: ClipTextConfig.StableDiffusion3L.VocabSize, T5Vocab: T5EncoderConfig.StableDiffusion3Xxl.VocabSize);

    /// <summary>SD3.5's vae/config.json (Large and Medium).</summary>
    static VaeConfig Sd35Vae => new()
    {
        BlockOutChannels = [128, 256, 512, 512], LayersPerBlock = 2, LatentChannels = 16, NormGroups = 32,
        UseQuantConv = false, UsePostQuantConv = false, ScalingFactor = 1.5305, ShiftFactor = 0.0609,
    };

    /// <summary>The image side the pipeline draws by default: sample_size × the VAE's factor.</summary>
    public int DefaultImageSize => Transformer.SampleSize * Vae.DownscaleFactor;

    /// <summary>Refuses shapes that do not fit together, as the pipeline would meet them (one line naming both sides).</summary>
    public void Validate()
    {
        var t = Transformer;
        void Require(bool ok, string what)
        {
            if (!ok) throw new QzoException($"SD3 preset '{Name}': {what}");
        }
        Require(ClipL.HiddenSize + ClipG.HiddenSize <= T5.DModel,
                $"CLIP widths {ClipL.HiddenSize} + {ClipG.HiddenSize} exceed T5's d_model {T5.DModel}");
        Require(T5.DModel == t.JointAttentionDim, $"T5's d_model {T5.DModel} ≠ joint_attention_dim {t.JointAttentionDim}");
        Require(ClipL.ProjectionDim + ClipG.ProjectionDim == t.PooledProjectionDim,
                $"CLIP projections {ClipL.ProjectionDim} + {ClipG.ProjectionDim} ≠ pooled_projection_dim {t.PooledProjectionDim}");
        Require(t.CaptionProjectionDim == t.InnerDim, $"caption_projection_dim {t.CaptionProjectionDim} ≠ heads · head_dim {t.InnerDim}");
        Require(Vae.LatentChannels == t.InChannels && t.InChannels == t.OutChannels,
                $"the VAE's {Vae.LatentChannels} latent channels ≠ the transformer's in/out channels {t.InChannels}/{t.OutChannels}");
        Require(t.PosEmbedMaxSize >= t.SampleSize / t.PatchSize,
                $"pos_embed_max_size {t.PosEmbedMaxSize} is smaller than the default size's {t.SampleSize / t.PatchSize} patches");
    }
}
