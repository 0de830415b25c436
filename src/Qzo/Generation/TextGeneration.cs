using Qzo.Models;
using Qzo.Text;

namespace Qzo.Generation;

/// <summary>
/// Continues prompts with a model's KV cache (<see cref="CachedDecoder"/>): greedy or sampled, batched with left
/// padding, ending at EOS, a stop string or the length limit. Positions count each row's real tokens, as
/// transformers' generate() does, so a prompt continues the same way alone or in a padded batch.
/// </summary>
public static class TextGeneration
{
    // Prompts are encoded with the tokenizer (BOS as its config says), batched BatchSize at a time with left padding,
    // decoded with the model's KV cache; Text is the decoded continuation only, cut before a stop string.
    /// <remarks>
    /// EOS: every id that generation_config.json (else config.json) and the tokenizer name as end of sequence (a list
    /// in Llama-3's configs). Padding: the tokenizer's pad token, else config.json's, else 0.
    /// </remarks>
    public static IReadOnlyList<GeneratedText> Generate(CausalLanguageModel model, Tokenizer tokenizer,
        IReadOnlyList<string> prompts, GenerationOptions options, IProgress<int>? progress = null)
    {
        options.Validate();
        var ids = prompts.Select(p => tokenizer.Encode(p)).ToList();
        var stops = new StopStringSearch(options.StopStrings);
        Func<int, IReadOnlyList<int>, bool>? stopAfter = stops.IsEmpty ? null : (_,
            tokens) => stops.FirstMatch(tokenizer.Decode(tokens.ToArray())) >= 0;
        int padId = tokenizer.PadId ?? model.Config.PadTokenId ?? 0;
        var continuations = CachedDecoder.Run(model, ids, options, EosIds(model.Config, tokenizer), padId, stopAfter, progress: progress);
        return continuations.Select(c =>
        {
            var textIds = c.StopReason == StopReasons.Eos ? c.TokenIds[..^1] : c.TokenIds;
            string text = tokenizer.Decode(textIds);
            if (c.StopReason == StopReasons.StopString) text = text[..stops.FirstMatch(text)];
            return new GeneratedText(text, c.TokenIds, c.StopReason);
        }).ToList();
    }

    // Token-level entry for tests and the oracle: prompts as ids; returns the new ids per prompt.
    /// <remarks>A continuation that ends at <paramref name="eosTokenId"/> ends with it; null: only the length ends one.</remarks>
    public static IReadOnlyList<int[]> GenerateIds(CausalLanguageModel model, IReadOnlyList<int[]> prompts,
        GenerationOptions options, int? eosTokenId, int padTokenId)
    {
        var eos = eosTokenId is int id ? new HashSet<int> { id } : [];
        return CachedDecoder.Run(model, prompts, options, eos, padTokenId).Select(c => c.TokenIds).ToList();
    }

    /// <summary>generation_config.json's EOS ids (else config.json's) and the tokenizer's.</summary>
    public static IReadOnlySet<int> EosIds(ModelConfig config, Tokenizer tokenizer)
    {
        var ids = new HashSet<int>(config.GenerationEosTokenIds ?? config.EosTokenIds);
        if (tokenizer.EosId is int eos) ids.Add(eos);
        return ids;
    }
}
