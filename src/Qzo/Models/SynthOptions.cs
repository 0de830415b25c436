using Qzo.Models.Architectures;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>The family, shape and initialisation of a randomly initialised checkpoint (`qzo synth`).</summary>
public sealed record SynthOptions
{
    public IArchitecture Architecture { get; init; } = ArchitectureRegistry.Llama;
    public int Hidden { get; init; } = 256;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 8;
    public int? KvHeads { get; init; }
    public int? HeadDim { get; init; }
    /// <summary>intermediate_size (OPT: ffn_dim).</summary>
    public int? Intermediate { get; init; }
    public int Vocab { get; init; } = 512;
    public int MaxPositions { get; init; } = 2048;
    public double RopeTheta { get; init; } = 10000;
    public float RmsNormEps { get; init; } = 1e-5f;
    public bool TieEmbeddings { get; init; }
    /// <summary>Mistral's sliding_window (null = none).</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>OPT's word_embed_proj_dim (null = the hidden size: no project_in/project_out).</summary>
    public int? WordEmbedDim { get; init; }
    /// <summary>OPT with do_layer_norm_before false (opt-350m's post-LayerNorm layers).</summary>
    public bool PostLayerNorm { get; init; }
    public DType DType { get; init; } = DType.BF16;
    public ulong Seed { get; init; } = 0;
    /// <summary>Standard deviation of every linear weight; null = 1/sqrt(fan_in), which keeps activations near unit scale.</summary>
    public float? InitStd { get; init; }
    /// <summary>Standard deviation of lm_head weights times sqrt(hidden): the typical spread of the output logits.</summary>
    public float LogitScale { get; init; } = 4f;
    /// <summary>
    /// Rank of a low-rank part that carries <see cref="ModelSynthesizer.LowRankShare"/> of every linear weight's and the
    /// token embeddings' variance (null: plain Gaussian weights). Trained models' weights and activations are far from
    /// isotropic; this gives a synthesized teacher correlated activations, where calibration-based quantizers differ.
    /// </summary>
    public int? LowRank { get; init; }
    /// <summary>
    /// Hidden channels whose token embeddings are <see cref="ModelSynthesizer.OutlierScale"/>× larger (the outlier features of real LLMs).
    /// </summary>
    public int Outliers { get; init; }

    public int ResolvedKvHeads => Architecture.Synthesis.KvHeads(this);
    public int ResolvedHeadDim => Architecture.Synthesis.HeadDim(this);
    /// <summary>intermediate_size, or the family's default (Llama: 8/3·hidden rounded up to 32; OPT: 4·hidden).</summary>
    public int ResolvedIntermediate => Intermediate ?? (int)Architecture.Synthesis.DefaultIntermediate(Hidden);
    public int ResolvedWordEmbedDim => WordEmbedDim ?? Hidden;
}
