using System.Text.Json.Nodes;

namespace Qzo.Tests.Cli;

static class TeacherData
{
    /// <summary>A JSONL file of `{"input_ids": [...]}` rows of random tokens after BOS.</summary>
    public static string Write(string path, int rows, int length, int vocab, int seed)
    {
        var random = new Random(seed);
        File.WriteAllLines(path, Enumerable.Range(0, rows).Select(_ => new JsonObject
        {
            ["input_ids"] = new JsonArray(new[] { 1 }.Concat(Enumerable.Range(0, length - 1).Select(_ => random.Next(3, vocab)))
                .Select(i => (JsonNode)i).ToArray())
        }.ToJsonString()));
        return path;
    }
}
