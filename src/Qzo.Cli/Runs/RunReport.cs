using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Qzo.Cli.Commands;

namespace Qzo.Cli.Runs;

/// <summary>The Markdown table of `qzo report`: one row per run folder, read from its results.json.</summary>
static class RunReport
{
    public static string Markdown(IEnumerable<string> runs)
    {
        var text = new StringBuilder();
        text.AppendLine("| run | method | model | task | metric | before | result | steps | peak memory | wall time |");
        text.AppendLine("|---|---|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var run in runs)
        {
            try { text.AppendLine(Row(run, RunFolder.ReadJson(run, RunFolder.Results))); }
            // JsonNode's casts throw these on a value of the wrong kind: results.json was damaged or edited.
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new QzoException($"{Path.Combine(run, RunFolder.Results)}: a value has the wrong type ({e.Message})");
            }
        }
        return text.ToString();
    }

    static string Row(string run, JsonObject results)
    {
        string metric = (string?)results["metric"] ?? "?";
        string method = (string?)results["method"] switch
        {
            "qzo" => "QZO", "mezo" => "MeZO", "few-shot" => $"few-shot ({(int?)results["shots"]})", var m => m ?? "?",
        };
        long? peak = (long?)results["peak_bytes"]?["Total"];
        return string.Join(" | ", [
            "", Path.GetFileName(Path.GetFullPath(run).TrimEnd('/')), method,
            $"{results["model"]} ({results["model_description"]})", (string?)results["task"] ?? "?", metric,
            Value(results["test_before"] ?? results["validation_before"], metric),
            Value(results["test"] ?? results["validation_best"], metric),
            ((int?)results["steps"] ?? 0).ToString(CultureInfo.InvariantCulture),
            peak is long p ? CommonOptions.Bytes(p) : "-", Seconds((double?)results["wall_seconds"]), "",
        ]).Trim();
    }

    /// <summary>The task metric in percent; a run whose metric is its loss (a diffusion run, on validation) shows the loss.</summary>
    static string Value(JsonNode? evaluation, string metric) =>
        evaluation?["value"] is JsonNode v ? (100 * (double)v).ToString("F1", CultureInfo.InvariantCulture)
        : metric == "loss" && evaluation?["loss"] is JsonNode loss ? ((double)loss).ToString("F4", CultureInfo.InvariantCulture) : "-";

    static string Seconds(double? s) => s switch
    {
        null => "-",
        >= 3600 => $"{s / 3600:F1} h",
        >= 120 => $"{s / 60:F1} min",
        _ => $"{s:F1} s",
    };
}
