using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Tasks.Definitions;

/// <summary>
/// Reads a task definition from YAML or JSON (the format of the files under src/Qzo/Tasks/BuiltIn; README
/// "Tasks" lists the keys). Every problem is one line naming the file and the key.
/// </summary>
public static class TaskDefinitionReader
{
    static readonly HashSet<string> Keys =
    [
        "name", "description", "dataset", "kind", "metric", "columns", "template", "label", "verbalizers", "label_aliases",
        "candidates", "candidate_template", "answers", "target", "stop", "max_new_tokens", "train_objective",
        "demonstration_separator", "sampling", "hyperparameters",
    ];

    public static TaskDefinition ReadFile(string path)
    {
        return Parse(StrictUtf8.ReadAllText(path, "task file"), path, path);
    }

    /// <param name="source">names the definition in errors and in config.json.</param>
    public static TaskDefinition Parse(string text, string source, string origin)
    {
        JsonNode? root;
        if (source.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            root = StrictJson.Parse(text, source);
        }
        else root = YamlToJson.Convert(text, source);
        if (root is not JsonObject obj) throw new QzoException($"{source}: a task definition must be a mapping of keys to values");
        return Build(obj, source, origin);
    }

    static TaskDefinition Build(JsonObject o, string source, string origin)
    {
        Exception Error(string key, string what) => new QzoException($"{source}: '{key}' {what}");
        foreach (var key in o.Select(kv => kv.Key))
            if (!Keys.Contains(key)) throw Error(key, $"is not a task key (known: {string.Join(", ", Keys)})");

        var kind = Required(o, "kind", source) switch
        {
            "classification" => TaskKind.Classification,
            "multiple_choice" => TaskKind.MultipleChoice,
            "generation" => TaskKind.Generation,
            var other => throw Error("kind", $"must be classification, multiple_choice or generation, not '{other}'"),
        };
        var metric = (Optional(o, "metric", source) ?? (kind == TaskKind.Generation ? "f1" : "accuracy")) switch
        {
            "accuracy" => TaskMetric.Accuracy,
            "f1" => TaskMetric.F1,
            "em" or "exact_match" => TaskMetric.ExactMatch,
            var other => throw Error("metric", $"must be accuracy, f1 or em, not '{other}'"),
        };
        if (kind != TaskKind.Generation && metric != TaskMetric.Accuracy) throw Error("metric",
            $"of a {Required(o, "kind", source)} task must be accuracy");
        if (kind == TaskKind.Generation && metric == TaskMetric.Accuracy) throw Error("metric", "of a generation task must be f1 or em");

        PromptTemplate Template(string key, string? text) => PromptTemplate.Parse(text!, what => Error(key, what));
        var definition = new TaskDefinition
        {
            Name = Required(o, "name", source),
            Description = Optional(o, "description", source) ?? "",
            Dataset = Optional(o, "dataset", source) ?? "",
            Kind = kind,
            Metric = metric,
            Columns = StringMap(o, "columns", source),
            Template = Template("template", Required(o, "template", source)),
            LabelColumns = StringOrList(o, "label", source),
            Verbalizers = StringMap(o, "verbalizers", source).ToList(),
            LabelAliases = StringMap(o, "label_aliases", source),
            CandidateColumns = StringOrList(o, "candidates", source),
            CandidateTemplate = Optional(o, "candidate_template", source) is string ct ? Template("candidate_template", ct) : null,
            AnswersColumn = Optional(o, "answers", source),
            Target = Optional(o, "target", source) is string t ? Template("target", t) : null,
            StopStrings = o.ContainsKey("stop") ? StringOrList(o, "stop", source) : ["\n"],
            MaxNewTokens = Int(o, "max_new_tokens", source) ?? 50,
            TrainObjective = (Optional(o, "train_objective", source) ?? "candidates") switch
            {
                "candidates" => TrainObjective.Candidates,
                "answer" => TrainObjective.Answer,
                var other => throw Error("train_objective", $"must be candidates or answer, not '{other}'"),
            },
            DemonstrationSeparator = Optional(o, "demonstration_separator", source) ?? "\n\n",
            Sampling = Sampling(o, source),
            Hyperparameters = Hyperparameters(o, source, out string note),
            HyperparameterNote = note,
            Source = (JsonObject)o.DeepClone(),
            Origin = origin,
        };
        Check(definition, Error);
        return definition;
    }

    static void Check(TaskDefinition d, Func<string, string, Exception> error)
    {
        if (d.Name.Length == 0 || d.Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
            throw error("name", $"must be letters, digits, '_', '-' or '.', not '{d.Name}'");
        foreach (var (column, type) in d.Columns)
            if (!ColumnTypes.Known.Contains(type)) throw error("columns",
                $"gives column '{column}' the type '{type}' (known: {string.Join(", ", ColumnTypes.Known)})");
        switch (d.Kind)
        {
            case TaskKind.Classification:
                if (d.LabelColumns.Count == 0) throw error("label", "names the label column a classification task needs");
                if (d.Verbalizers.Count < 2) throw error("verbalizers", "must map at least two label values to their answer text");
                break;
            case TaskKind.MultipleChoice:
                if (d.CandidateColumns.Count == 0) throw error("candidates",
                    "names the candidate fields (or one list column) a multiple_choice task needs");
                if (d.LabelColumns.Count == 0 && d.AnswersColumn is null) throw error("label",
                    "or 'answers' must say which candidate is correct");
                break;
            case TaskKind.Generation:
                if (d.AnswersColumn is null) throw error("answers", "names the list column of gold answers a generation task needs");
                if (d.Target is null) throw error("target", "is the training target after the prompt, e.g. \" {answer}\\n\"");
                if (d.MaxNewTokens < 1) throw error("max_new_tokens", "must be ≥ 1");
                break;
        }
    }

    static SamplingDefaults Sampling(JsonObject o, string source)
    {
        if (o["sampling"] is null) return new SamplingDefaults(1000, 500, 1000);
        if (o["sampling"] is not JsonObject s) throw new QzoException(
            $"{source}: 'sampling' must be a mapping with train, dev and eval counts");
        return new SamplingDefaults(Int(s, "train", source, "sampling.") ?? 1000, Int(s, "dev", source, "sampling.") ?? 500,
            Int(s, "eval", source, "sampling.") ?? 1000);
    }

    static IReadOnlyDictionary<string, MethodDefaults> Hyperparameters(JsonObject o, string source, out string note)
    {
        note = "";
        var result = new Dictionary<string, MethodDefaults>();
        if (o["hyperparameters"] is null) return result;
        if (o["hyperparameters"] is not JsonObject h) throw new QzoException(
            $"{source}: 'hyperparameters' must be a mapping of method to settings");
        foreach (var (method, value) in h)
        {
            if (method == "note") { note = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : ""; continue; }
            if (method is not ("qzo" or "mezo")) throw new QzoException(
                $"{source}: 'hyperparameters.{method}' is not a method (qzo, mezo, note)");
            if (value is not JsonObject m) throw new QzoException($"{source}: 'hyperparameters.{method}' must be a mapping");
            string prefix = $"hyperparameters.{method}.";
            foreach (var key in m.Select(kv => kv.Key))
                if (key is not ("lr" or "eps" or "steps" or "batch_size" or "clip" or "eval_every"))
                    throw new QzoException($"{source}: '{prefix}{key}' is not a setting (lr, eps, steps, batch_size, clip, eval_every)");
            result[method] = new MethodDefaults(
                (float)(Number(m, "lr", source, prefix) ?? 1e-7), (float)(Number(m, "eps", source, prefix) ?? 1e-3),
                Int(m, "steps", source, prefix) ?? 20_000, Int(m, "batch_size", source, prefix) ?? 16,
                m.ContainsKey("clip") ? (float?)Number(m, "clip", source, prefix) : 100f, Int(m, "eval_every", source, prefix) ?? 4_000);
        }
        return result;
    }

    static string Required(JsonObject o, string key, string source) =>
        Optional(o, key, source) ?? throw new QzoException($"{source}: '{key}' is required");

    static string? Optional(JsonObject o, string key, string source) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new QzoException($"{source}: '{key}' must be text"),
    };

    static IReadOnlyList<string> StringOrList(JsonObject o, string key, string source) => o[key] switch
    {
        null => [],
        JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
        JsonArray a when a.All(n => n?.GetValueKind() == JsonValueKind.String) => a.Select(n => n!.GetValue<string>()).ToList(),
        _ => throw new QzoException($"{source}: '{key}' must be text or a list of text"),
    };

    /// <summary>A mapping of text to text; integer and boolean keys or values are written as text ("0", "true").</summary>
    static IReadOnlyDictionary<string, string> StringMap(JsonObject o, string key, string source)
    {
        var result = new Dictionary<string, string>();
        if (o[key] is null) return result;
        if (o[key] is not JsonObject map) throw new QzoException($"{source}: '{key}' must be a mapping");
        foreach (var (k, v) in map)
            result[k] = v switch
            {
                JsonValue s when s.GetValueKind() == JsonValueKind.String => s.GetValue<string>(),
                JsonValue n when n.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => n.ToJsonString(),
                _ => throw new QzoException($"{source}: '{key}.{k}' must be text"),
            };
        return result;
    }

    static int? Int(JsonObject o, string key, string source, string prefix = "") =>
        Number(o, key, source, prefix) is double d ? (d == Math.Floor(d) && Math.Abs(d) < int.MaxValue ? (int)d : throw new QzoException(
            $"{source}: '{prefix}{key}' must be an integer")) : null;

    static double? Number(JsonObject o, string key, string source, string prefix = "") => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => double.Parse(v.ToJsonString(),
            System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new QzoException($"{source}: '{prefix}{key}' must be a number"),
    };
}
