using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Text;

namespace Qzo.Tasks;

/// <summary>
/// Examples from a JSONL file, one JSON object per line, in one of these forms:
/// <list type="bullet">
/// <item>`{"prompt": ..., "completion": ...}`: loss on the completion's tokens;</item>
/// <item>`{"text": ..., "label": ...}` with a <see cref="ClassificationFormat"/>: one candidate per label;</item>
/// <item>`{"text": ...}`: loss on every token;</item>
/// <item>`{"input_ids": [...]}`: already tokenized, loss on every token.</item>
/// </list>
/// Sequences longer than maxLength lose tokens on the left, keeping BOS (as QZO's code does).
/// </summary>
public static class JsonlDataset
{
    /// <summary>Every row, those with nothing to score included (calibration wants every token).</summary>
    public static IReadOnlyList<Example> Load(string path, Tokenizer tokenizer, int maxLength, ClassificationFormat? classification = null,
        int? limit = null) =>
        Read(path, tokenizer, maxLength, classification, limit, skipUnscored: false).Examples;

    /// <summary>
    /// The rows that score at least one token, for training and evaluation: a row that scores nothing (a lone token,
    /// an empty text, everything cut by maxLength) is skipped and counted; a file where no row scores anything is refused.
    /// </summary>
    public static JsonlExamples LoadScored(string path, Tokenizer tokenizer, int maxLength, ClassificationFormat? classification = null,
        int? limit = null) =>
        Read(path, tokenizer, maxLength, classification, limit, skipUnscored: true);

    static JsonlExamples Read(string path, Tokenizer tokenizer, int maxLength, ClassificationFormat? classification, int? limit,
        bool skipUnscored)
    {
        var examples = new List<Example>();
        int skipped = 0;
        foreach (var (lineNumber, row) in JsonlFile.ReadObjects(path, "data file"))
        {
            Exception Error(string what) => new QzoException($"{path}:{lineNumber}: the row {what}");
            var example = Parse(row, tokenizer, maxLength, classification, Error);
            if (skipUnscored && !ScoresAnything(example)) { skipped++; continue; }
            examples.Add(example);
            if (limit is int n && examples.Count >= n) break;
        }
        if (examples.Count == 0)
            throw new QzoException(skipped == 0 ? $"{path}: no examples"
                : $"{path}: nothing to score: none of its {skipped} rows has a token to predict (each needs at least 2 tokens, within " +
                    $"--max-length {maxLength})");
        if (examples.Select(e => e.GetType()).Distinct().Count() > 1)
            throw new QzoException($"{path}: rows mix classification and language-modelling forms; use one form per file");
        return new JsonlExamples(examples, skipped);
    }

    /// <summary>
    /// A sequence scores the tokens marked after its first (position t predicts token t + 1); a choice needs every candidate scored.
    /// </summary>
    static bool ScoresAnything(Example example) => example switch
    {
        SequenceExample s => s.PredictedCount > 0,
        ChoiceExample c => c.Candidates.All(s => s.PredictedCount > 0),
        _ => true,
    };

    static Example Parse(JsonObject row, Tokenizer tokenizer, int maxLength, ClassificationFormat? classification,
        Func<string, Exception> error)
    {
        if (row.ContainsKey("label"))
        {
            if (classification is null) throw error("has a label, so it needs --template and --verbalizers to become candidates");
            string prompt = classification.Prompt(row, error);
            var candidates = classification.Verbalizers.Select(v => Completion(tokenizer, prompt, v.Value, maxLength, error)).ToArray();
            return new ChoiceExample(candidates, classification.LabelIndex(row["label"]!, error));
        }
        if (row.ContainsKey("completion"))
            return Completion(tokenizer, Text(row, "prompt", error), Text(row, "completion", error), maxLength, error);
        if (row.ContainsKey("text"))
        {
            var ids = tokenizer.Encode(Text(row, "text", error));
            return Truncate(ids, Enumerable.Repeat(true, ids.Length).ToArray(), maxLength, tokenizer.BosId);
        }
        if (row["input_ids"] is JsonArray array)
        {
            var ids = TokenIds.Read(array, tokenizer.VocabSize, error);
            return Truncate(ids, Enumerable.Repeat(true, ids.Length).ToArray(), maxLength, tokenizer.BosId);
        }
        throw error("has none of the keys prompt+completion, text(+label), input_ids");
    }

    /// <summary>MeZO's convention: the answer's tokens are those of encode(prompt + answer) beyond encode(prompt)'s length.</summary>
    static SequenceExample Completion(Tokenizer tokenizer, string prompt, string completion, int maxLength, Func<string, Exception> error)
    {
        var promptIds = tokenizer.Encode(prompt);
        var ids = tokenizer.Encode(prompt + completion);
        if (ids.Length <= promptIds.Length) throw error("has an empty completion after tokenization");
        var scored = new bool[ids.Length];
        for (int i = promptIds.Length; i < ids.Length; i++) scored[i] = true;
        return Truncate(ids, scored, maxLength, tokenizer.BosId);
    }

    internal static SequenceExample Truncate(int[] ids, bool[] scored, int maxLength, int? bos)
    {
        if (ids.Length <= maxLength) return new SequenceExample(ids, scored);
        bool keepBos = bos is int b && ids[0] == b;
        int keep = keepBos ? maxLength - 1 : maxLength;
        var newIds = new List<int>(); var newScored = new List<bool>();
        if (keepBos) { newIds.Add(ids[0]); newScored.Add(false); }
        newIds.AddRange(ids[^keep..]);
        newScored.AddRange(scored[^keep..]);
        return new SequenceExample(newIds.ToArray(), newScored.ToArray());
    }

    static string Text(JsonObject row, string key, Func<string, Exception> error) =>
        row[key] is JsonNode n && n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : throw error($"has no string '{key}'");
}
