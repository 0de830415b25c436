namespace Qzo.Models.Architectures.Gemma3;

/// <summary>
/// Where a checkpoint keeps the language model's tensors: `model.` (Gemma3ForCausalLM), `language_model.model.`
/// (a Gemma3ForConditionalGeneration checkpoint as saved) or `model.language_model.` (transformers 5's in-memory naming),
/// and the multimodal parts Qzo does not run (the vision tower and its projector), which loading marks as ignored.
/// </summary>
static class Gemma3Tensors
{
    static readonly string[] Prefixes = ["model.", "language_model.model.", "model.language_model."];
    static readonly string[] VisionParts =
        ["vision_tower.", "multi_modal_projector.", "model.vision_tower.", "model.multi_modal_projector."];

    public static string Prefix(Checkpoint checkpoint) =>
        Prefixes.FirstOrDefault(p => checkpoint.Tensors.Contains(p + "embed_tokens.weight"))
        ?? throw new QzoException($"{checkpoint.Directory}: no embed_tokens.weight under any of {string.Join(", ", Prefixes)}");

    /// <summary>lm_head's name beside the language model of <paramref name="prefix"/>.</summary>
    public static string LmHead(Checkpoint checkpoint, string prefix) =>
        prefix == "language_model.model." && checkpoint.Tensors.Contains("language_model.lm_head.weight")
            ? "language_model.lm_head" : "lm_head";

    public static IEnumerable<string> Vision(Checkpoint checkpoint) =>
        checkpoint.Tensors.Names.Where(n => VisionParts.Any(p => n.StartsWith(p, StringComparison.Ordinal)));
}
