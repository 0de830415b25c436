using System.Text.Json.Nodes;
using Qzo.Models;

namespace Qzo.Diffusion.Schedulers;

/// <summary>
/// scheduler/scheduler_config.json of a flow-matching pipeline (diffusers' FlowMatchEulerDiscreteScheduler). SD3.5
/// Large and Medium ship num_train_timesteps 1000, shift 3.0 and no dynamic shifting. Options that change the sigma
/// schedule in ways Qzo does not implement (Karras, exponential or beta sigmas, inverted sigmas, stochastic sampling)
/// are refused by name rather than ignored.
/// </summary>
public sealed record FlowMatchEulerConfig
{
    public int TrainTimesteps { get; init; } = 1000;
    public double Shift { get; init; } = 1.0;
    public bool DynamicShifting { get; init; }
    public double BaseShift { get; init; } = 0.5;
    public double MaxShift { get; init; } = 1.15;
    public int BaseImageSeqLen { get; init; } = 256;
    public int MaxImageSeqLen { get; init; } = 4096;
    /// <summary>"exponential" or "linear": how <see cref="DynamicShifting"/> bends the schedule.</summary>
    public string TimeShiftType { get; init; } = "exponential";
    public double? ShiftTerminal { get; init; }

    public static FlowMatchEulerConfig Read(string path)
    {
        if (!File.Exists(path)) throw new QzoException($"{path}: not found (a pipeline's scheduler/scheduler_config.json)");
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new QzoException($"{path}: empty"); }
        catch (System.Text.Json.JsonException e) { throw new QzoException($"{path}: not valid JSON ({e.Message})"); }
        return Parse(new JsonConfigReader(json, path));
    }

    public static FlowMatchEulerConfig Parse(JsonConfigReader c)
    {
        string? type = c.String("_class_name");
        if (type is not null && type != "FlowMatchEulerDiscreteScheduler")
            throw new QzoException($"{c.SourceFile}: scheduler '{type}' is not supported (FlowMatchEulerDiscreteScheduler)");
        foreach (string flag in new[] { "use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas", "invert_sigmas",
                                         "stochastic_sampling" })
            if (c.Bool(flag, false)) throw new QzoException($"{c.SourceFile}: '{flag}: true' is not supported");
        var config = new FlowMatchEulerConfig
        {
            TrainTimesteps = c.Int("num_train_timesteps", 1000),
            Shift = c.Double("shift", 1.0),
            DynamicShifting = c.Bool("use_dynamic_shifting", false),
            BaseShift = c.Double("base_shift", 0.5),
            MaxShift = c.Double("max_shift", 1.15),
            BaseImageSeqLen = c.Int("base_image_seq_len", 256),
            MaxImageSeqLen = c.Int("max_image_seq_len", 4096),
            TimeShiftType = c.String("time_shift_type") ?? "exponential",
            ShiftTerminal = c.Has("shift_terminal") ? c.Double("shift_terminal", 0) : null,
        };
        if (config.TrainTimesteps < 2) throw new QzoException($"{c.SourceFile}: 'num_train_timesteps' must be at least 2");
        if (!(config.Shift > 0)) throw new QzoException($"{c.SourceFile}: 'shift' must be positive, got {config.Shift}");
        if (config.TimeShiftType is not ("exponential" or "linear"))
            throw new QzoException($"{c.SourceFile}: 'time_shift_type' '{config.TimeShiftType}' is not supported (exponential, linear)");
        return config;
    }
}
