using System.Text.Json.Nodes;
using Qzo.Training;

namespace Qzo.Cli.Runs;

/// <summary><see cref="ZoOptions"/> in config.json, every field written out; a floor of −∞ (no clamp) is written as null.</summary>
static class ZoOptionsJson
{
    public static JsonObject Write(ZoOptions o) => new()
    {
        ["method"] = o.Method == ZoMethod.Mezo ? "mezo" : "qzo",
        ["steps"] = o.Steps, ["lr"] = o.LearningRate, ["schedule"] = o.Schedule == LearningRateSchedule.Linear ? "linear" : "constant",
        ["eps"] = o.Epsilon, ["clip"] = o.ClipThreshold, ["scale_floor"] = float.IsFinite(o.ScaleFloor) ? o.ScaleFloor : null,
            ["batch_size"] = o.BatchSize,
        ["eval_every"] = o.EvalEvery, ["seed"] = o.Seed, ["train_unquantized"] = o.TrainUnquantized,
            ["random_sign_control"] = o.RandomSignControl, ["directions"] = o.Directions,
        ["compute"] = Name(o.Compute), ["compare_compute"] = o.ComparePrecision is { } other ? Name(other) : null,
    };

    static string Name(Compute.LinearPrecision p) => p.ToString().ToLowerInvariant();

    /// <summary>"native" or "fp8" (--compute, --compare-compute).</summary>
    public static Compute.LinearPrecision ParsePrecision(string value, string option) => value switch
    {
        "native" => Compute.LinearPrecision.Native,
        "fp8" => Compute.LinearPrecision.Fp8,
        _ => throw new QzoException($"{option}: '{value}' is not a precision (native or fp8)"),
    };

    public static ZoOptions Read(JsonNode o) => new()
    {
        Method = (string)o["method"]! == "mezo" ? ZoMethod.Mezo : ZoMethod.Qzo,
        Steps = (int)o["steps"]!, LearningRate = (float)o["lr"]!,
        Schedule = (string)o["schedule"]! == "linear" ? LearningRateSchedule.Linear : LearningRateSchedule.Constant,
        Epsilon = (float)o["eps"]!, ClipThreshold = (float?)o["clip"], ScaleFloor = (float?)o["scale_floor"] ?? float.NegativeInfinity,
            BatchSize = (int)o["batch_size"]!,
        EvalEvery = (int)o["eval_every"]!, Seed = (ulong)o["seed"]!, TrainUnquantized = (bool)o["train_unquantized"]!,
        RandomSignControl = (bool)o["random_sign_control"]!,
        Directions = (int?)o["directions"] ?? 1, // runs written before --directions probed one
        Compute = ParsePrecision((string?)o["compute"] ?? "native", "compute"), // runs written before --compute: native
        ComparePrecision = (string?)o["compare_compute"] is string other ? ParsePrecision(other, "compare_compute") : null,
    };
}
