namespace Qzo.Generation;

/// <summary>
/// How to continue prompts: greedy (the most likely token) or sampled from softmax(logits / Temperature), cut to the
/// TopK most likely tokens (0 = no cut) and then to the TopP nucleus, in transformers' order; at most MaxNewTokens
/// new tokens per prompt, fewer where an EOS token or one of StopStrings ends it; BatchSize prompts per batch.
/// </summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 32;
    public bool Greedy { get; init; } = true;          // false: sample
    public float Temperature { get; init; } = 1f;
    public float TopP { get; init; } = 1f;
    public int TopK { get; init; } = 0;                  // 0 = off
    public ulong Seed { get; init; } = 0;
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    public int BatchSize { get; init; } = 8;

    /// <summary>A one-line <see cref="QzoException"/> for a value out of range.</summary>
    internal void Validate()
    {
        if (MaxNewTokens < 0) throw new QzoException($"the number of new tokens must be 0 or more, got {MaxNewTokens}");
        if (BatchSize < 1) throw new QzoException($"the batch size must be at least 1, got {BatchSize}");
        if (!Greedy && !(Temperature > 0 && float.IsFinite(Temperature))) throw new QzoException(
            $"the temperature must be positive, got {Temperature}");
        if (!(TopP > 0 && TopP <= 1)) throw new QzoException($"top-p must be in (0, 1], got {TopP}");
        if (TopK < 0) throw new QzoException($"top-k must be 0 (off) or positive, got {TopK}");
        if (StopStrings.Any(string.IsNullOrEmpty)) throw new QzoException("a stop string must not be empty");
    }
}
