namespace Qzo.Quantization.Gptq;

/// <summary>
/// The one bit-order rule behind every GPTQ packed tensor. Along the packed dimension the int32 words form a
/// little-endian bit stream, and value k occupies bits [bits·k, bits·k + bits) of it. For 2, 4 and 8 bits a value
/// never crosses a word (value k of word w sits at bits·k'); for 3 bits, 32 values fill exactly 3 words and values
/// 10 and 21 straddle two words, which is AutoGPTQ's and GPTQModel's "10 values | 1 split | 10 | 1 split | 10" layout
/// written out value by value.
/// </summary>
internal static class GptqBitStream
{
    /// <summary>
    /// Packs <paramref name="values"/> [count, lanes] (row-major) into <paramref name="words"/> [count·bits/32, lanes],
    /// along the count dimension; each lane (column) is its own stream.
    /// </summary>
    public static void Pack(ReadOnlySpan<int> values, Span<int> words, int count, int lanes, int bits)
    {
        uint mask = (1u << bits) - 1;
        words.Clear();
        for (int k = 0; k < count; k++)
        {
            int bit = bits * k, shift = bit & 31;
            var source = values.Slice(k * lanes, lanes);
            var low = words.Slice((bit >> 5) * lanes, lanes);
            for (int l = 0; l < lanes; l++)
            {
                uint v = (uint)source[l];
                if (v > mask)
                    throw new ArgumentOutOfRangeException(nameof(values), $"value {source[l]} at [{k}, {l}] does not fit in {bits} bits");
                low[l] |= (int)(v << shift);
            }
            if (shift + bits > 32)
            {
                // The value's high bits continue at bit 0 of the next word of the stream.
                var high = words.Slice(((bit >> 5) + 1) * lanes, lanes);
                for (int l = 0; l < lanes; l++) high[l] |= (int)((uint)source[l] >> (32 - shift));
            }
        }
    }

    /// <summary>The inverse of <see cref="Pack"/>: words [count·bits/32, lanes] to values [count, lanes].</summary>
    public static void Unpack(ReadOnlySpan<int> words, Span<int> values, int count, int lanes, int bits)
    {
        uint mask = (1u << bits) - 1;
        for (int k = 0; k < count; k++)
        {
            int bit = bits * k, shift = bit & 31;
            var destination = values.Slice(k * lanes, lanes);
            var low = words.Slice((bit >> 5) * lanes, lanes);
            if (shift + bits <= 32)
            {
                for (int l = 0; l < lanes; l++) destination[l] = (int)(((uint)low[l] >> shift) & mask);
            }
            else
            {
                var high = words.Slice(((bit >> 5) + 1) * lanes, lanes);
                for (int l = 0; l < lanes; l++)
                    destination[l] = (int)((((uint)low[l] >> shift) | ((uint)high[l] << (32 - shift))) & mask);
            }
        }
    }
}
