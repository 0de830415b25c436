using System.Text.Json.Nodes;

namespace Qzo.Tasks;

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

    public static EvaluationResult? Read(JsonNode? node) => node is not JsonObject o ? null
        : new EvaluationResult((double?)o["loss"], (double?)o["perplexity"], (double?)o["accuracy"], (int)o["examples"]!, (long?)o["scored_tokens"] ?? 0)
        {
            Metric = (string?)o["metric"], ExactMatch = (double?)o["em"], F1 = (double?)o["f1"],
        };
}
