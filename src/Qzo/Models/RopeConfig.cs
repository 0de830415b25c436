using System.Text.Json.Nodes;

namespace Qzo.Models;

/// <summary>
/// Rotary embedding settings in any of config.json's three spellings: transformers 4's `rope_theta` +
/// `rope_scaling` (with `type` or `rope_type`), and transformers 5's `rope_parameters`.
/// Supported types: default, linear, llama3. Anything else is refused by name.
/// </summary>
public sealed record RopeConfig(string Type, double Theta, double Factor = 1, double LowFreqFactor = 1,
                                double HighFreqFactor = 4, int OriginalMaxPositions = 8192)
{
    public static RopeConfig Parse(JsonConfigReader config)
    {
        JsonObject? parameters = null;
        double theta = config.Double("rope_theta", 10000);
        if (config.Has("rope_parameters"))
        {
            parameters = config.Json["rope_parameters"] as JsonObject ?? throw config.Invalid("rope_parameters", "an object");
            if (parameters.ContainsKey("rope_theta")) theta = parameters["rope_theta"]!.GetValue<double>();
        }
        else if (config.Has("rope_scaling"))
        {
            parameters = config.Json["rope_scaling"] as JsonObject ?? throw config.Invalid("rope_scaling", "an object");
        }
        if (parameters is null) return new RopeConfig("default", theta);

        string type = (parameters["rope_type"] ?? parameters["type"])?.GetValue<string>() ?? "default";
        double Get(string key, double fallback) => parameters[key]?.GetValue<double>() ?? fallback;
        return type switch
        {
            "default" => new RopeConfig("default", theta),
            "linear" => new RopeConfig("linear", theta, Factor: Get("factor", 1)),
            "llama3" => new RopeConfig("llama3", theta, Get("factor", 8), Get("low_freq_factor", 1), Get("high_freq_factor", 4),
                                       (int)Get("original_max_position_embeddings", 8192)),
            _ => throw new QzoException($"{config.SourceFile}: rope type '{type}' is not supported (supported: default, linear, llama3)"),
        };
    }

    public JsonObject ToJson()
    {
        var o = new JsonObject { ["rope_type"] = Type, ["rope_theta"] = Theta };
        if (Type == "linear") o["factor"] = Factor;
        if (Type == "llama3")
        {
            o["factor"] = Factor;
            o["low_freq_factor"] = LowFreqFactor;
            o["high_freq_factor"] = HighFreqFactor;
            o["original_max_position_embeddings"] = OriginalMaxPositions;
        }
        return o;
    }

    /// <summary>
    /// The inverse frequencies, in fp32 arithmetic as transformers computes them
    /// (modeling_rope_utils: default, linear, llama3).
    /// </summary>
    public float[] InverseFrequencies(int headDim)
    {
        int half = headDim / 2;
        var inv = new float[half];
        for (int i = 0; i < half; i++)
        {
            float exponent = (float)(2 * i) / headDim;
            inv[i] = 1.0f / MathF.Pow((float)Theta, exponent);
        }
        if (Type == "linear")
            for (int i = 0; i < half; i++) inv[i] /= (float)Factor;
        if (Type == "llama3")
        {
            float factor = (float)Factor, low = (float)LowFreqFactor, high = (float)HighFreqFactor, original = OriginalMaxPositions;
            float lowFreqWavelength = original / low, highFreqWavelength = original / high;
            for (int i = 0; i < half; i++)
            {
                float wavelength = 2 * MathF.PI / inv[i];
                if (wavelength > lowFreqWavelength) inv[i] /= factor;
                else if (wavelength >= highFreqWavelength)
                {
                    float smooth = (original / wavelength - low) / (high - low);
                    inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                }
            }
        }
        return inv;
    }
}
