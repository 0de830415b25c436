using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Training;

/// <summary><see cref="EvaluationResult"/> as JSON (metrics.jsonl, results.json, run checkpoints) and back.</summary>
public static class EvaluationJson
{
    public static JsonObject Write(EvaluationResult e)
    {
        var o = new JsonObject { ["loss"] = e.Loss, ["perplexity"] = e.Perplexity, ["accuracy"] = e.Accuracy };
        if (e.ExactMatch is not null || e.F1 is not null) { o["em"] = e.ExactMatch; o["f1"] = e.F1; }
        if (e.Metric is not null) { o["metric"] = e.Metric; o["value"] = e.MetricValue; }
        o["examples"] = e.Examples;
        o["scored_tokens"] = e.ScoredTokens;
        return o;
    }

    /// <param name="where">names the JSON in errors: a file, or a file and key</param>
    public static EvaluationResult? Read(JsonNode? node, string where)
    {
        if (node is null) return null;
        if (node is not JsonObject o) throw new QzoException($"{where}: an evaluation must be a JSON object");
        double? Number(string key) => JsonFields.Optional<double?>(o, key, where);
        return new EvaluationResult(Number("loss"), Number("perplexity"), Number("accuracy"),
            JsonFields.Required<int>(o, "examples", where),
                                    JsonFields.Optional<long?>(o, "scored_tokens", where) ?? 0)
        {
            Metric = JsonFields.Optional<string>(o, "metric", where), ExactMatch = Number("em"), F1 = Number("f1"),
        };
    }
}
