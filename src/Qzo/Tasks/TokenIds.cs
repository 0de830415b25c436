using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qzo.Tasks;

/// <summary>A row's <c>input_ids</c>: whole numbers that fit in 32 bits and are token ids of the vocabulary.</summary>
static class TokenIds
{
    public static int[] Read(JsonArray array, int vocabSize, Func<string, Exception> error)
    {
        if (array.Count == 0) throw error("has an empty input_ids");
        var ids = new int[array.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            var node = array[i];
            string shown = node?.ToJsonString() ?? "null";
            if (node?.GetValueKind() != JsonValueKind.Number || !node.AsValue().TryGetValue(out int id))
                throw error($"has input_ids[{i}] = {Shorten(shown)}, which is not a token id (a whole number from 0 to {vocabSize - 1})");
            if ((uint)id >= (uint)vocabSize)
                throw error($"has input_ids[{i}] = {id}, outside the tokenizer's vocabulary (0..{vocabSize - 1})");
            ids[i] = id;
        }
        return ids;
    }

    static string Shorten(string json) => json.Length <= 40 ? json : json[..37] + "...";
}
