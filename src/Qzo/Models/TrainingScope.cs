namespace Qzo.Models;

/// <summary>Which tensors a run perturbs and updates.</summary>
public enum TrainingScope
{
    /// <summary>Nothing: evaluation only.</summary>
    None,
    /// <summary>QZO: the scales of the quantized linears only (the paper's setting).</summary>
    QuantizationScales,
    /// <summary>QZO plus MeZO-style training of every unquantized tensor (embeddings, norms, lm_head, biases).</summary>
    ScalesAndUnquantized,
    /// <summary>MeZO: every weight of an unquantized checkpoint.</summary>
    AllWeights,
}
