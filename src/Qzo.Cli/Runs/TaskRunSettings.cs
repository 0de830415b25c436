using System.Text.Json.Nodes;
using Qzo.Tasks.Definitions;
using Qzo.Training;

namespace Qzo.Cli.Runs;

/// <summary>
/// Every setting of a task run, resolved (flags over the task's defaults over the paper's): what config.json
/// holds, and what `--resume` reads back, so a resumed run cannot drift from the one that was killed.
/// </summary>
sealed record TaskRunSettings
{
    /// <summary>"finetune" or "eval".</summary>
    public required string Command { get; init; }
    public required string Model { get; init; }
    public required TaskDefinition Task { get; init; }
    public required TaskDataSettings Data { get; init; }
    /// <summary>The optimizer of a finetune run; null for eval.</summary>
    public ZoOptions? Optimizer { get; init; }
    public int MaxLength { get; init; } = 2048;
    public int EvalBatchSize { get; init; } = 16;
    public int? MaxNewTokens { get; init; }
    /// <summary>eval: in-context demonstrations from the train sample.</summary>
    public int Shots { get; init; }
    /// <summary>eval: which part is scored (test, dev or train).</summary>
    public string Split { get; init; } = "test";
    public int CheckpointEvery { get; init; } = 500;
    public bool KeepBest { get; init; } = true;
    public bool SaveModel { get; init; } = true;
    public string Device { get; init; } = "auto";

    /// <summary>zero-shot, few-shot, qzo or mezo.</summary>
    public string Method => Optimizer is { } o ? (o.Method == ZoMethod.Mezo ? "mezo" : "qzo") : Shots > 0 ? "few-shot" : "zero-shot";

    public JsonObject ToJson() => new()
    {
        ["command"] = Command, ["method"] = Method, ["model"] = Model,
        ["task"] = new JsonObject { ["name"] = Task.Name, ["origin"] = Task.Origin, ["definition"] = Task.Source.DeepClone() },
        ["data"] = Data.ToJson(),
        ["optimizer"] = Optimizer is null ? null : ZoOptionsJson.Write(Optimizer),
        ["evaluation"] = new JsonObject
        {
            ["batch_size"] = EvalBatchSize, ["max_length"] = MaxLength,
                ["max_new_tokens"] = MaxNewTokens ?? (Task.Kind == TaskKind.Generation ? Task.MaxNewTokens : null),
            ["shots"] = Shots, ["split"] = Split, ["metric"] = Task.MetricName,
        },
        ["checkpoint_every"] = CheckpointEvery, ["keep"] = KeepBest ? "best" : "last", ["save_model"] = SaveModel, ["device"] = Device,
    };

    public static TaskRunSettings FromJson(JsonObject json, string source)
    {
        try
        {
            var task = json["task"]!;
            var evaluation = json["evaluation"]!;
            return new TaskRunSettings
            {
                Command = (string)json["command"]!,
                Model = (string)json["model"]!,
                Task = TaskDefinitionReader.Parse(task["definition"]!.ToJsonString(), source, (string)task["origin"]!),
                Data = TaskDataSettings.FromJson(json["data"]!),
                Optimizer = json["optimizer"] is JsonObject o ? ZoOptionsJson.Read(o) : null,
                MaxLength = (int)evaluation["max_length"]!, EvalBatchSize = (int)evaluation["batch_size"]!,
                MaxNewTokens = (int?)evaluation["max_new_tokens"], Shots = (int)evaluation["shots"]!, Split = (string)evaluation["split"]!,
                CheckpointEvery = (int)json["checkpoint_every"]!, KeepBest = (string)json["keep"]! == "best",
                SaveModel = (bool)json["save_model"]!, Device = (string)json["device"]!,
            };
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new QzoException($"{source}: not a task run's config.json ({e.Message})");
        }
    }
}
