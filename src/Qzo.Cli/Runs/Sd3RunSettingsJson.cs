using System.Text.Json.Nodes;
using Qzo.Diffusion.Training;

namespace Qzo.Cli.Runs;

/// <summary><see cref="Sd3FinetuneSettings"/> in a run's config.json, every field written out, and back for --resume.</summary>
static class Sd3RunSettingsJson
{
    public static JsonObject Write(Sd3FinetuneSettings s) => new()
    {
        ["preset"] = s.Preset,
        ["optimizer"] = ZoOptionsJson.Write(s.Optimizer),
        ["objective"] = new JsonObject
        {
            ["kind"] = Sd3ObjectiveSettings.Name(s.Objective.Kind), ["weighting_scheme"] = Sd3ObjectiveSettings.Name(s.Objective.Weighting),
            ["logit_mean"] = s.Objective.LogitMean, ["logit_std"] = s.Objective.LogitStd, ["mode_scale"] = s.Objective.ModeScale,
            ["precondition_outputs"] = s.Objective.PreconditionOutputs,
        },
        ["forward_batch"] = s.ForwardBatch, ["checkpoint_every"] = s.CheckpointEvery, ["keep"] = s.KeepBest ? "best" : "last",
        ["save_model"] = s.SaveModel,
        ["validation"] = new JsonObject { ["seed"] = s.ValidationSeed, ["limit"] = s.ValidationLimit },
        ["samples"] = new JsonObject
        {
            ["every"] = s.SampleEvery, ["steps"] = s.SampleSteps, ["guidance"] = s.SampleGuidance, ["count"] = s.SampleCount,
            ["prompts"] = new JsonArray(s.SamplePrompts.Select(p => (JsonNode)p).ToArray()),
            ["seeds"] = new JsonArray(s.SampleSeeds.Select(x => (JsonNode)x).ToArray()),
        },
        ["device"] = s.Device,
    };

    public static Sd3FinetuneSettings Read(JsonNode json, string source)
    {
        try
        {
            var objective = json["objective"]!;
            var validation = json["validation"]!;
            var samples = json["samples"]!;
            return new Sd3FinetuneSettings
            {
                Preset = (string)json["preset"]!,
                Optimizer = ZoOptionsJson.Read(json["optimizer"]!),
                Objective = new Sd3ObjectiveSettings
                {
                    Kind = Sd3ObjectiveSettings.ParseKind((string)objective["kind"]!),
                    Weighting = Sd3ObjectiveSettings.ParseWeighting((string)objective["weighting_scheme"]!),
                    LogitMean = (float)objective["logit_mean"]!, LogitStd = (float)objective["logit_std"]!,
                    ModeScale = (float)objective["mode_scale"]!, PreconditionOutputs = (bool)objective["precondition_outputs"]!,
                },
                ForwardBatch = (int)json["forward_batch"]!, CheckpointEvery = (int)json["checkpoint_every"]!,
                KeepBest = (string)json["keep"]! == "best", SaveModel = (bool)json["save_model"]!,
                ValidationSeed = (ulong)validation["seed"]!, ValidationLimit = (int)validation["limit"]!,
                SampleEvery = (int)samples["every"]!, SampleSteps = (int)samples["steps"]!, SampleGuidance = (float)samples["guidance"]!,
                SampleCount = (int)samples["count"]!,
                SamplePrompts = samples["prompts"]!.AsArray().Select(p => (string)p!).ToList(),
                SampleSeeds = samples["seeds"]!.AsArray().Select(x => (ulong)x!).ToList(),
                Device = (string)json["device"]!,
            };
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new QzoException($"{source}: not an SD3 run's settings ({e.Message})");
        }
    }
}
