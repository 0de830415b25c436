namespace Qzo.Encoders.T5;

/// <summary>
/// The tensor names of T5EncoderModel as transformers saves them (models/t5/modeling_t5.py). The token embedding is
/// shared.weight, which encoder.embed_tokens ties to; checkpoints written by other tools may hold it under
/// encoder.embed_tokens.weight instead, or under both. No linear has a bias.
/// </summary>
static class T5EncoderTensors
{
    public const string Shared = "shared.weight";
    public const string EncoderEmbedTokens = "encoder.embed_tokens.weight";
    public const string FinalNorm = "encoder.final_layer_norm.weight";
    /// <summary>The decoder of a whole T5 checkpoint, which T5EncoderModel ignores (its _keys_to_ignore_on_load_unexpected).</summary>
    public const string DecoderPrefix = "decoder.";

    public static string Block(int i) => $"encoder.block.{i}.";
    public const string AttentionNorm = "layer.0.layer_norm.weight";
    public const string Q = "layer.0.SelfAttention.q", K = "layer.0.SelfAttention.k", V = "layer.0.SelfAttention.v";
    public const string O = "layer.0.SelfAttention.o";
    /// <summary>Only block 0 holds the table; every block reuses its bias.</summary>
    public const string RelativeBias = "layer.0.SelfAttention.relative_attention_bias.weight";
    public const string MlpNorm = "layer.1.layer_norm.weight";
    public const string Wi = "layer.1.DenseReluDense.wi", Wi0 = "layer.1.DenseReluDense.wi_0", Wi1 = "layer.1.DenseReluDense.wi_1";
    public const string Wo = "layer.1.DenseReluDense.wo";
}
