using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Training;

/// <summary>
/// A <see cref="RunState"/> in one safetensors file, written atomically: the fp32 trainable values as
/// <c>values/NAME</c>, the best evaluation's as <c>best/NAME</c>, and the rest as JSON in the metadata.
/// </summary>
public static class RunCheckpoint
{
    const string StateKey = "qzo_run_state";

    public static void Save(string path, RunState state, ITrainableSet set)
    {
        var trainable = set.Tensors;
        var tensors = new List<TensorToWrite>();
        void Add(string prefix, float[][] values)
        {
            for (int t = 0; t < trainable.Count; t++)
                tensors.Add(new TensorToWrite($"{prefix}/{trainable[t].Name}", DType.F32, [values[t].Length],
                    MemoryMarshal.AsBytes(values[t].AsSpan()).ToArray()));
        }
        Add("values", state.Values);
        if (state.BestValues is not null) Add("best", state.BestValues);
        var json = new JsonObject
        {
            ["step"] = state.Step, ["best_step"] = state.BestStep, ["metrics_bytes"] = state.MetricsBytes,
                ["elapsed_s"] = state.ElapsedSeconds,
            ["before"] = Write(state.Before), ["last"] = Write(state.Last), ["best"] = Write(state.Best),
            ["trainable"] = new JsonArray(trainable.Select(p => (JsonNode)p.Name).ToArray()),
        };
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { [StateKey] = json.ToJsonString() });
    }

    /// <summary>The state to resume a run of <paramref name="steps"/> steps from: null when none was saved.</summary>
    public static RunState? LoadToResume(string path, ITrainableSet set, int steps)
    {
        if (!File.Exists(path)) return null;
        var state = Load(path, set);
        return state.Step <= steps ? state
            : throw new QzoException($"{path}: the run state is at step {state.Step}, past the run's {steps} steps");
    }

    public static RunState Load(string path, ITrainableSet set)
    {
        var trainable = set.Tensors;
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue(StateKey, out var text)) throw new QzoException(
            $"{path}: not a Qzo run checkpoint (no {StateKey} metadata)");
        string where = $"{path}: metadata {StateKey}";
        var json = StrictJson.Parse(text, where) as JsonObject ?? throw new QzoException($"{where}: not a JSON object");
        var names = JsonFields.RequiredArray(json, "trainable", where)
            .Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s
                : throw new QzoException($"{where}: 'trainable' must list tensor names")).ToList();
        if (!names.SequenceEqual(trainable.Select(p => p.Name)))
            throw new QzoException(
                $"{path}: the checkpoint's trainable tensors ({names.Count}) are not the model's ({trainable.Count}); was the run " +
                "started on another model or method?");
        float[][] Read(string prefix) => trainable.Select(p =>
        {
            var values = file.ReadFloat32($"{prefix}/{p.Name}");
            if (values.Length != p.Length) throw new QzoException(
                $"{path}: {prefix}/{p.Name} has {values.Length} values, the model's tensor {p.Length}");
            long nonFinite = NonFiniteValues.Count(DType.F32, MemoryMarshal.AsBytes(values.AsSpan()));
            return nonFinite == 0 ? values
                : throw new QzoException($"{path}: tensor '{prefix}/{p.Name}' holds {nonFinite} non-finite values (NaN/Inf)");
        }).ToArray();
        bool hasBest = file.Contains($"best/{trainable[0].Name}");
        int step = JsonFields.Required<int>(json, "step", where), bestStep = JsonFields.Required<int>(json, "best_step", where);
        long metricsBytes = JsonFields.Required<long>(json, "metrics_bytes", where);
        if (step < 0 || bestStep < 0 || bestStep > step || metricsBytes < 0)
            throw new QzoException(
                $"{where}: step {step}, best_step {bestStep} and metrics_bytes {metricsBytes} must be 0 ≤ best_step ≤ step and " +
                "metrics_bytes ≥ 0");
        return new RunState(step, Read("values"), EvaluationJson.Read(json["before"], $"{where}.before"),
            EvaluationJson.Read(json["last"], $"{where}.last"),
                            EvaluationJson.Read(json["best"], $"{where}.best"), bestStep, hasBest ? Read("best") : null,
                            metricsBytes, JsonFields.Required<double>(json, "elapsed_s", where));
    }

    static JsonNode? Write(EvaluationResult? e) => e is null ? null : EvaluationJson.Write(e);
}
