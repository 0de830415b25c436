using System.Text.Json.Nodes;
using Qzo.Tasks.Data;
using Qzo.Tasks.Definitions;

namespace Qzo.Cli.Runs;

/// <summary>Which rows of a dataset folder a run uses, resolved (config.json's "data").</summary>
sealed record TaskDataSettings(string Folder, string Sampling, int NumTrain, int NumDev, int NumEval, uint Seed)
{
    public static TaskDataSettings Resolve(TaskDefinition task, string folder, string sampling, int? numTrain, int? numDev, int? numEval,
        uint seed)
    {
        if (sampling is not ("mezo" or "splits")) throw new QzoException($"--sampling must be mezo or splits, got '{sampling}'");
        return new TaskDataSettings(Path.GetFullPath(folder), sampling, numTrain ?? task.Sampling.Train, numDev ?? task.Sampling.Dev,
                                    numEval ?? task.Sampling.Eval, seed);
    }

    public JsonObject ToJson() => new()
    {
        ["folder"] = Folder, ["sampling"] = Sampling, ["num_train"] = NumTrain, ["num_dev"] = NumDev, ["num_eval"] = NumEval,
            ["seed"] = Seed,
    };

    public static TaskDataSettings FromJson(JsonNode node) => new((string)node["folder"]!, (string)node["sampling"]!,
        (int)node["num_train"]!,
        (int)node["num_dev"]!, (int)node["num_eval"]!, (uint)node["seed"]!);

    /// <summary>The rows of each part; the files read are listed for config.json.</summary>
    public (TaskSplits Splits, JsonObject Files) Load()
    {
        var files = new JsonObject();
        IReadOnlyList<TaskRow> Split(string name)
        {
            files[name] = new JsonArray(TaskDataFolder.SplitFiles(Folder, name).Select(f => (JsonNode)Path.GetRelativePath(Folder,
                f)).ToArray());
            return TaskDataFolder.ReadSplit(Folder, name);
        }
        if (Sampling == "mezo") return (TaskSplits.Mezo(Split("train"), Split("validation"), NumTrain, NumDev, NumEval, Seed), files);
        return (new TaskSplits(Split("train"), Split("validation"), Split("test")), files);
    }
}
