using System.Text.Json.Nodes;

namespace Qzo.Quantization.Gptq;

/// <summary>
/// A GPTQ quantization config (quantize_config.json, or config.json's quantization_config), docs/formats.md §4.
/// Equality compares the settings, not <see cref="Source"/>.
/// </summary>
/// <param name="GroupSize">inputs per group; −1 = one group over the whole input</param>
/// <param name="Quantizer">the first entry of meta.quantizer (the tool that made the checkpoint), when known</param>
public sealed partial record GptqConfig(
    int Bits,
    int GroupSize,
    bool DescAct,
    bool Sym,
    GptqCheckpointFormat Format,
    double DampPercent = 0.01,
    bool TrueSequential = true,
    bool StaticGroups = false,
    bool LmHead = false,
    string QuantMethod = "gptq",
    string? Quantizer = null)
{
    /// <summary>The JSON this config was parsed from; <see cref="ToJson"/> keeps the keys Qzo does not interpret.</summary>
    public JsonObject? Source { get; init; }

    public int EffectiveGroupSize(int inFeatures) => GptqPacking.EffectiveGroupSize(inFeatures, GroupSize);

    public bool Equals(GptqConfig? other) =>
        other is not null && Bits == other.Bits && GroupSize == other.GroupSize && DescAct == other.DescAct &&
        Sym == other.Sym && Format == other.Format && DampPercent.Equals(other.DampPercent) &&
        TrueSequential == other.TrueSequential && StaticGroups == other.StaticGroups && LmHead == other.LmHead &&
        QuantMethod == other.QuantMethod && Quantizer == other.Quantizer;

    public override int GetHashCode() => HashCode.Combine(Bits, GroupSize, DescAct, Sym, Format, DampPercent, LmHead, Quantizer);
}

public sealed partial record GptqConfig
{
    /// <summary>A config for Qzo's own quantizers, with the options checked (act-order and the rest apply to GPTQ only).</summary>
    public static GptqConfig Create(int bits, int groupSize, bool sym, GptqCheckpointFormat format, bool descAct = false,
                                    double dampPercent = 0.01, bool staticGroups = false, bool trueSequential = true)
    {
        if (!GptqPacking.SupportedBits.Contains(bits)) throw new QzoException(
            $"--bits must be one of {string.Join(", ", GptqPacking.SupportedBits)}, got {bits}");
        if (groupSize == 0 || groupSize < -1) throw new QzoException($"--group-size must be positive or -1, got {groupSize}");
        if (!sym && format == GptqCheckpointFormat.Gptq)
            throw new QzoException(
                "asymmetric quantization can produce a zero point of 0, which the v1 'gptq' format cannot store; use --format gptq_v2");
        if (!(dampPercent > 0 && dampPercent < 1)) throw new QzoException(
            $"--damp must be between 0 and 1 (a fraction of the mean of diag(H)), got {dampPercent}");
        return new GptqConfig(bits, groupSize, DescAct: descAct, Sym: sym, Format: format, DampPercent: dampPercent,
                              TrueSequential: trueSequential, StaticGroups: staticGroups);
    }
}
