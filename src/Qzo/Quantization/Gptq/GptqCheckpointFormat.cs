namespace Qzo.Quantization.Gptq;

/// <summary>How a GPTQ checkpoint stores its zero points (config key <c>checkpoint_format</c> or <c>format</c>).</summary>
public enum GptqCheckpointFormat
{
    /// <summary>"gptq" (v1, AutoGPTQ): every stored zero is the true zero minus 1.</summary>
    Gptq,

    /// <summary>"gptq_v2" (GPTQModel): zeros are stored as they are.</summary>
    GptqV2,
}

public static class GptqCheckpointFormats
{
    public static string ConfigName(this GptqCheckpointFormat format) => format switch
    {
        GptqCheckpointFormat.Gptq => "gptq",
        GptqCheckpointFormat.GptqV2 => "gptq_v2",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    public static bool TryParse(string name, out GptqCheckpointFormat format)
    {
        switch (name.ToLowerInvariant())
        {
            case "gptq": format = GptqCheckpointFormat.Gptq; return true;
            case "gptq_v2": format = GptqCheckpointFormat.GptqV2; return true;
            default: format = default; return false;
        }
    }
}
