using System.Text.Json.Nodes;

namespace Qzo.Models.Architectures.LlamaLayout;

/// <summary>The two ways Llama-layout configs give each layer's sliding attention window (0 = full attention).</summary>
static class SlidingWindows
{
    const int DefaultWindow = 4096, DefaultMaxWindowLayers = 28;

    /// <summary>Mistral's: `sliding_window` (null = none) on every layer.</summary>
    public static int[]? OnEveryLayer(JsonConfigReader c, int layers) =>
        c.Has("sliding_window") ? Enumerable.Repeat(Window(c), Math.Max(layers, 0)).ToArray() : null;

    /// <summary>
    /// Qwen2's (transformers' Qwen2Config): only with `use_sliding_window`, on the layers `layer_types` marks
    /// "sliding_attention", or else on layers ≥ `max_window_layers`. Absent keys take Qwen2Config's and Qwen3Config's
    /// defaults (`sliding_window` 4096, `max_window_layers` 28; pinned in Qwen3Tests); an explicit null window is none.
    /// </summary>
    public static int[]? ByLayerType(JsonConfigReader c, int layers)
    {
        if (!c.Bool("use_sliding_window", false) || c.Json.ContainsKey("sliding_window") && !c.Has("sliding_window")) return null;
        int window = c.Has("sliding_window") ? Window(c) : DefaultWindow;
        if (c.Json["layer_types"] is JsonArray types)
        {
            if (types.Count != layers)
                throw new QzoException($"{c.SourceFile}: 'layer_types' has {types.Count} entries for {layers} layers");
            return types.Select((t, i) => t?.GetValue<string>() switch
            {
                "sliding_attention" => window,
                "full_attention" => 0,
                var other => throw new QzoException(
                    $"{c.SourceFile}: layer_types[{i}] '{other}' is not supported (full_attention, sliding_attention)"),
            }).ToArray();
        }
        int fullLayers = c.Int("max_window_layers", DefaultMaxWindowLayers);
        return Enumerable.Range(0, Math.Max(layers, 0)).Select(i => i >= fullLayers ? window : 0).ToArray();
    }

    static int Window(JsonConfigReader c) => c.RequireInt("sliding_window") is var w && w > 0 ? w
        : throw new QzoException($"{c.SourceFile}: 'sliding_window' must be positive or null, got {w}");
}
