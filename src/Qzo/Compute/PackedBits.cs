namespace Qzo.Compute;

/// <summary>
/// Reads value k of a little-endian bit stream of 32-bit words, <c>bits</c> per value: value k occupies
/// stream bits k·bits … k·bits+bits−1, possibly straddling two words. For 2/4/8 bits this is GPTQ's
/// "value k of a word at bits b·k"; for 3 bits it is exactly GPTQ's 32-values-in-3-words layout.
/// </summary>
public static class PackedBits
{
    public static int Extract(ReadOnlySpan<int> words, int k, int bits)
    {
        int bit = k * bits;
        int word = bit >> 5, shift = bit & 31;
        ulong window = (uint)words[word];
        if (shift + bits > 32) window |= (ulong)(uint)words[word + 1] << 32;
        return (int)((window >> shift) & ((1u << bits) - 1));
    }
}
