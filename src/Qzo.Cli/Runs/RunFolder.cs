using System.Text.Json.Nodes;

namespace Qzo.Cli.Runs;

/// <summary>The files of a run folder (README "Run folders").</summary>
static class RunFolder
{
    public const string Config = "config.json";
    public const string Metrics = "metrics.jsonl";
    public const string Results = "results.json";
    public const string State = "state.safetensors";
    public const string TestBefore = "test_before.json";
    public const string Predictions = "predictions.jsonl";
    public const string Model = "model";
    public const string LossPlot = "loss.png";
    public const string ValidationPlot = "validation.png";
    public const string MemoryPlot = "memory.png";
    public const string Samples = "samples";

    public static JsonObject ReadJson(string run, string name)
    {
        string path = Path.Combine(run, name);
        if (!File.Exists(path)) throw new QzoException($"{path}: not found (is {run} a run folder?)");
        return Qzo.IO.StrictJson.Parse(Qzo.IO.StrictUtf8.ReadAllText(path), path) as JsonObject
            ?? throw new QzoException($"{path}: not a JSON object");
    }

    public static void WriteJson(string run, string name, JsonNode json) =>
        Qzo.IO.AtomicFile.WriteAllText(Path.Combine(run, name), json.ToJsonString(Json.Indented) + "\n");
}

static class Json
{
    public static readonly System.Text.Json.JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static readonly System.Text.Json.JsonSerializerOptions Compact = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
