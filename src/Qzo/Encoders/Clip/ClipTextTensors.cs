namespace Qzo.Encoders.Clip;

/// <summary>
/// The tensor names of CLIPTextModel(WithProjection) as transformers saves them (models/clip/modeling_clip.py): the tower
/// under text_model., the projection beside it. Every linear but text_projection has a bias; both LayerNorms are affine.
/// </summary>
static class ClipTextTensors
{
    public const string TokenEmbedding = "text_model.embeddings.token_embedding.weight";
    public const string PositionEmbedding = "text_model.embeddings.position_embedding.weight";
    /// <summary>A non-persistent buffer that checkpoints saved by older transformers still hold; transformers ignores it.</summary>
    public const string PositionIds = "text_model.embeddings.position_ids";
    public const string FinalNorm = "text_model.final_layer_norm";
    public const string Projection = "text_projection";

    public static string Layer(int i) => $"text_model.encoder.layers.{i}.";
    public const string AttentionNorm = "layer_norm1", MlpNorm = "layer_norm2";
    public const string Q = "self_attn.q_proj", K = "self_attn.k_proj", V = "self_attn.v_proj", Out = "self_attn.out_proj";
    public const string Fc1 = "mlp.fc1", Fc2 = "mlp.fc2";
}
