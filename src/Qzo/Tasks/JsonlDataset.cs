using System.Text.Json;
using System.Text.Json.Nodes;
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
    public static IReadOnlyList<Example> Load(string path, Tokenizer tokenizer, int maxLength, ClassificationFormat? classification = null, int? limit = null)
    {
        if (!File.Exists(path)) throw new QzoException($"{path}: data file not found");
        var examples = new List<Example>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            Exception Error(string what) => new QzoException($"{path}:{lineNumber}: the row {what}");
            JsonObject row;
            try { row = JsonNode.Parse(line) as JsonObject ?? throw Error("is not a JSON object"); }
            catch (JsonException e) { throw Error($"is not valid JSON ({e.Message})"); }
            examples.Add(Parse(row, tokenizer, maxLength, classification, Error));
            if (limit is int n && examples.Count >= n) break;
        }
        if (examples.Count == 0) throw new QzoException($"{path}: no examples");
        if (examples.Select(e => e.GetType()).Distinct().Count() > 1)
            throw new QzoException($"{path}: rows mix classification and language-modelling forms; use one form per file");
        return examples;
    }

    static Example Parse(JsonObject row, Tokenizer tokenizer, int maxLength, ClassificationFormat? classification, Func<string, Exception> error)
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
            var ids = array.Select(n => n?.GetValueKind() == JsonValueKind.Number ? n.GetValue<int>() : throw error("has a non-integer in input_ids")).ToArray();
            if (ids.Length == 0) throw error("has an empty input_ids");
            foreach (var id in ids)
                if ((uint)id >= (uint)tokenizer.VocabSize) throw error($"has token id {id}, outside the tokenizer's vocabulary (0..{tokenizer.VocabSize - 1})");
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
