namespace Qzo.Quantization.Gptq;

/// <summary>
/// GPTQ's packed tensors (docs/formats.md §4). qweight [in·bits/32, out] packs codes along the input dimension;
/// qzeros [groups, out·bits/32] packs zero points along the output dimension; both use <see cref="GptqBitStream"/>.
/// </summary>
public static partial class GptqPacking
{
    public static IReadOnlyList<int> SupportedBits { get; } = [2, 3, 4, 8];

    /// <summary>codes [inFeatures, outFeatures], each in [0, 2^bits) → qweight [inFeatures·bits/32, outFeatures].</summary>
    public static int[] PackQWeight(ReadOnlySpan<int> codes, int inFeatures, int outFeatures, int bits)
    {
        CheckBits(bits);
        CheckPackable(inFeatures, bits, "in_features", "qweight");
        CheckPositive(outFeatures, nameof(outFeatures));
        CheckLength(codes.Length, (long)inFeatures * outFeatures, nameof(codes));
        var words = new int[inFeatures * bits / 32 * outFeatures];
        GptqBitStream.Pack(codes, words, inFeatures, outFeatures, bits);
        return words;
    }

    /// <summary>qweight [inFeatures·bits/32, outFeatures] → codes [inFeatures, outFeatures].</summary>
    public static int[] UnpackQWeight(ReadOnlySpan<int> qweight, int inFeatures, int outFeatures, int bits)
    {
        CheckBits(bits);
        CheckPackable(inFeatures, bits, "in_features", "qweight");
        CheckPositive(outFeatures, nameof(outFeatures));
        CheckLength(qweight.Length, (long)inFeatures * bits / 32 * outFeatures, nameof(qweight));
        var codes = new int[inFeatures * outFeatures];
        GptqBitStream.Unpack(qweight, codes, inFeatures, outFeatures, bits);
        return codes;
    }

    /// <summary>
    /// True zero points [groups, outFeatures], each in [0, 2^bits) → qzeros [groups, outFeatures·bits/32], stored
    /// as <paramref name="format"/> prescribes (v1: zero − 1 per field; v2: zero).
    /// </summary>
    public static int[] PackQZeros(ReadOnlySpan<int> zeros, int groups, int outFeatures, int bits, GptqCheckpointFormat format)
    {
        CheckBits(bits);
        CheckPositive(groups, nameof(groups));
        CheckPackable(outFeatures, bits, "out_features", "qzeros");
        CheckLength(zeros.Length, (long)groups * outFeatures, nameof(zeros));
        int maxq = (1 << bits) - 1;
        var stored = new int[zeros.Length];
        for (int i = 0; i < zeros.Length; i++)
        {
            int zero = zeros[i];
            if (zero < 0 || zero > maxq)
                throw new ArgumentOutOfRangeException(nameof(zeros),
                    $"zero point {zero} at [{i / outFeatures}, {i % outFeatures}] does not fit in {bits} bits");
            if (format == GptqCheckpointFormat.Gptq && zero == 0)
                throw new QzoException(
                    $"checkpoint_format \"gptq\" (v1) stores zero − 1 and cannot hold the zero point 0 of group {i / outFeatures}, " +
                    $"output {i % outFeatures} (−1 would spill into the neighbouring fields); write checkpoint_format \"gptq_v2\" " +
                        "instead");
            stored[i] = format == GptqCheckpointFormat.Gptq ? zero - 1 : zero;
        }

        int wordsPerGroup = outFeatures * bits / 32;
        var words = new int[groups * wordsPerGroup];
        for (int g = 0; g < groups; g++)
            GptqBitStream.Pack(stored.AsSpan(g * outFeatures, outFeatures), words.AsSpan(g * wordsPerGroup, wordsPerGroup), outFeatures, 1,
                bits);
        return words;
    }

    /// <summary>qzeros [groups, outFeatures·bits/32] → true zero points [groups, outFeatures].</summary>
    public static int[] UnpackQZeros(ReadOnlySpan<int> qzeros, int groups, int outFeatures, int bits, GptqCheckpointFormat format)
    {
        CheckBits(bits);
        CheckPositive(groups, nameof(groups));
        CheckPackable(outFeatures, bits, "out_features", "qzeros");
        int wordsPerGroup = outFeatures * bits / 32;
        CheckLength(qzeros.Length, (long)groups * wordsPerGroup, nameof(qzeros));
        var zeros = new int[groups * outFeatures];
        for (int g = 0; g < groups; g++)
            GptqBitStream.Unpack(qzeros.Slice(g * wordsPerGroup, wordsPerGroup), zeros.AsSpan(g * outFeatures, outFeatures), outFeatures, 1,
                bits);
        if (format == GptqCheckpointFormat.Gptq)
        {
            // Per field, as current GPTQModel converts v1 (older AutoGPTQ kernels skip the mask and read a stored
            // 2^bits − 1 as 2^bits; no find_params zero point produces that field, only the spill of a zero of 0).
            int mask = (1 << bits) - 1;
            for (int i = 0; i < zeros.Length; i++) zeros[i] = (zeros[i] + 1) & mask;
        }
        return zeros;
    }

    /// <summary>Number of quantization groups: ceil(in / g), with g = −1 meaning one group over the whole input.</summary>
    public static int GroupCount(int inFeatures, int groupSize)
    {
        int g = EffectiveGroupSize(inFeatures, groupSize);
        return (inFeatures + g - 1) / g;
    }

    /// <summary>g_idx without act-order: input row i belongs to group i / g.</summary>
    public static int[] DefaultGIdx(int inFeatures, int groupSize)
    {
        int g = EffectiveGroupSize(inFeatures, groupSize);
        var gIdx = new int[inFeatures];
        for (int i = 0; i < inFeatures; i++) gIdx[i] = i / g;
        return gIdx;
    }

    internal static int EffectiveGroupSize(int inFeatures, int groupSize)
    {
        CheckPositive(inFeatures, nameof(inFeatures));
        if (groupSize == -1) return inFeatures;
        if (groupSize <= 0) throw new ArgumentOutOfRangeException(nameof(groupSize), $"group size {groupSize} must be positive or -1");
        return groupSize;
    }

    internal static void CheckBits(int bits)
    {
        if (bits is not (2 or 3 or 4 or 8))
            throw new QzoException($"GPTQ bits {bits} is not supported; supported: 2, 3, 4, 8");
    }

    /// <summary>A packed dimension must fill whole words: count·bits divisible by 32 (a multiple of 32 for 3 bits).</summary>
    internal static void CheckPackable(int count, int bits, string dimension, string tensor)
    {
        CheckPositive(count, dimension);
        if (count * (long)bits % 32 != 0)
        {
            int multiple = bits == 3 ? 32 : 32 / bits;
            throw new QzoException(
                $"{tensor} packs {dimension} in 32-bit words: {dimension} {count} is not a multiple of {multiple} for {bits}-bit GPTQ");
        }
    }

    static void CheckPositive(int value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, $"{name} must be positive, got {value}");
    }

    static void CheckLength(int actual, long expected, string name)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} elements, expected {expected}", name);
    }
}
