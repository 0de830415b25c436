using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Tasks;

namespace Qzo.Training;

/// <summary>
/// A <see cref="RunState"/> in one safetensors file, written atomically: the fp32 trainable values as
/// <c>values/NAME</c>, the best evaluation's as <c>best/NAME</c>, and the rest as JSON in the metadata.
/// </summary>
public static class RunCheckpoint
{
    const string StateKey = "qzo_run_state";

    public static void Save(string path, RunState state, IReadOnlyList<Parameter> trainable)
    {
        var tensors = new List<TensorToWrite>();
        void Add(string prefix, float[][] values)
        {
            for (int t = 0; t < trainable.Count; t++)
                tensors.Add(new TensorToWrite($"{prefix}/{trainable[t].Name}", DType.F32, [values[t].Length], MemoryMarshal.AsBytes(values[t].AsSpan()).ToArray()));
        }
        Add("values", state.Values);
        if (state.BestValues is not null) Add("best", state.BestValues);
        var json = new JsonObject
        {
            ["step"] = state.Step, ["best_step"] = state.BestStep, ["metrics_bytes"] = state.MetricsBytes, ["elapsed_s"] = state.ElapsedSeconds,
            ["before"] = Write(state.Before), ["last"] = Write(state.Last), ["best"] = Write(state.Best),
            ["trainable"] = new JsonArray(trainable.Select(p => (JsonNode)p.Name).ToArray()),
        };
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { [StateKey] = json.ToJsonString() });
    }

    public static RunState Load(string path, IReadOnlyList<Parameter> trainable)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue(StateKey, out var text)) throw new QzoException($"{path}: not a Qzo run checkpoint (no {StateKey} metadata)");
        var json = JsonNode.Parse(text)!.AsObject();
        var names = json["trainable"]!.AsArray().Select(n => (string)n!).ToList();
        if (!names.SequenceEqual(trainable.Select(p => p.Name)))
            throw new QzoException($"{path}: the checkpoint's trainable tensors ({names.Count}) are not the model's ({trainable.Count}); was the run started on another model or method?");
        float[][] Read(string prefix) => trainable.Select(p =>
        {
            var values = file.ReadFloat32($"{prefix}/{p.Name}");
            return values.Length == p.Length ? values : throw new QzoException($"{path}: {prefix}/{p.Name} has {values.Length} values, the model's tensor {p.Length}");
        }).ToArray();
        bool hasBest = file.Contains($"best/{trainable[0].Name}");
        return new RunState((int)json["step"]!, Read("values"), EvaluationJson.Read(json["before"]), EvaluationJson.Read(json["last"]),
                            EvaluationJson.Read(json["best"]), (int)json["best_step"]!, hasBest ? Read("best") : null,
                            (long)json["metrics_bytes"]!, (double)json["elapsed_s"]!);
    }

    static JsonNode? Write(EvaluationResult? e) => e is null ? null : EvaluationJson.Write(e);
}
