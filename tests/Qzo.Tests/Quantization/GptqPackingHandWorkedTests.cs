using Qzo.Quantization;
using Qzo.Quantization.Gptq;

namespace Qzo.Tests.Quantization;

/// <summary>Packed words worked out by hand from docs/formats.md §4, one bit width at a time.</summary>
public class GptqPackingHandWorkedTests
{
    static int W(uint word) => unchecked((int)word);

    // ---- 4 bits: 8 values per word, value k at bits 4k ----

    [Fact]
    public void FourBitQWeightHoldsEightRowsPerWordLowestRowInLowestNibble()
    {
        // [in 8, out 2]: column 0 holds codes 0..7 in rows 0..7, column 1 holds 15..8.
        var codes = new int[8 * 2];
        for (int i = 0; i < 8; i++) { codes[i * 2] = i; codes[i * 2 + 1] = 15 - i; }
        int[] expected = [W(0x76543210), W(0x89ABCDEF)];

        Assert.Equal(expected, GptqPacking.PackQWeight(codes, 8, 2, 4));
        Assert.Equal(codes, GptqPacking.UnpackQWeight(expected, 8, 2, 4));
    }

    [Theory]
    [InlineData(GptqCheckpointFormat.Gptq, 0x77777777u, 0xE6543210u)]   // v1 stores zero − 1
    [InlineData(GptqCheckpointFormat.GptqV2, 0x88888888u, 0xF7654321u)] // v2 stores the zero itself
    public void FourBitQZerosFollowTheCheckpointFormat(GptqCheckpointFormat format, uint group0, uint group1)
    {
        // [groups 2, out 8]: group 0 all 8 (symmetric 4-bit), group 1 zeros 1..7 and 15.
        int[] zeros = [8, 8, 8, 8, 8, 8, 8, 8, 1, 2, 3, 4, 5, 6, 7, 15];
        int[] expected = [W(group0), W(group1)];

        Assert.Equal(expected, GptqPacking.PackQZeros(zeros, 2, 8, 4, format));
        Assert.Equal(zeros, GptqPacking.UnpackQZeros(expected, 2, 8, 4, format));
    }

    // ---- 2 bits: 16 values per word, value k at bits 2k ----

    [Fact]
    public void TwoBitQWeightHoldsSixteenRowsPerWord()
    {
        // Fields from row 15 down to row 0: 11 11 00 00 | 10 10 01 01 | 00 01 10 11 | 11 10 01 00 = F0 A5 1B E4.
        int[] codes = [0, 1, 2, 3, 3, 2, 1, 0, 1, 1, 2, 2, 0, 0, 3, 3];
        int[] expected = [W(0xF0A51BE4)];

        Assert.Equal(expected, GptqPacking.PackQWeight(codes, 16, 1, 2));
        Assert.Equal(codes, GptqPacking.UnpackQWeight(expected, 16, 1, 2));
    }

    [Theory]
    [InlineData(GptqCheckpointFormat.Gptq, 0x55555555u, 0x80000024u)]
    [InlineData(GptqCheckpointFormat.GptqV2, 0xAAAAAAAAu, 0xD5555579u)]
    public void TwoBitQZerosFollowTheCheckpointFormat(GptqCheckpointFormat format, uint group0, uint group1)
    {
        // Group 0: all 2. Group 1: 1, 2, 3, then 1s, and 3 in output 15.
        //   v1 stores 0, 1, 2, 0 … 0, 2  → 10 at bits 30–31, 10 at bits 4–5, 01 at bits 2–3 = 0x80000024.
        //   v2 stores 1, 2, 3, 1 … 1, 3  → 0x55555555 + 0x4 + 0x20 + 0x80000000 = 0xD5555579.
        var zeros = new int[2 * 16];
        Array.Fill(zeros, 2, 0, 16);
        Array.Fill(zeros, 1, 16, 16);
        zeros[16 + 1] = 2; zeros[16 + 2] = 3; zeros[16 + 15] = 3;
        int[] expected = [W(group0), W(group1)];

        Assert.Equal(expected, GptqPacking.PackQZeros(zeros, 2, 16, 2, format));
        Assert.Equal(zeros, GptqPacking.UnpackQZeros(expected, 2, 16, 2, format));
    }

    // ---- 8 bits: 4 values per word, value k at bits 8k ----

    [Fact]
    public void EightBitQWeightHoldsFourRowsPerWord()
    {
        // [in 4, out 2]: column 0 = 0x12, 0x34, 0xFF, 0x80; column 1 = 1, 2, 3, 4.
        int[] codes = [0x12, 1, 0x34, 2, 0xFF, 3, 0x80, 4];
        int[] expected = [W(0x80FF3412), W(0x04030201)];

        Assert.Equal(expected, GptqPacking.PackQWeight(codes, 4, 2, 8));
        Assert.Equal(codes, GptqPacking.UnpackQWeight(expected, 4, 2, 8));
    }

    [Theory]
    [InlineData(GptqCheckpointFormat.Gptq, 0x7F7F7F7Fu, 0xC710FE00u)]   // stored 127 ×4; 0, 254, 16, 199
    [InlineData(GptqCheckpointFormat.GptqV2, 0x80808080u, 0xC811FF01u)] // stored 128 ×4; 1, 255, 17, 200
    public void EightBitQZerosFollowTheCheckpointFormat(GptqCheckpointFormat format, uint group0, uint group1)
    {
        int[] zeros = [128, 128, 128, 128, 1, 255, 17, 200];
        int[] expected = [W(group0), W(group1)];

        Assert.Equal(expected, GptqPacking.PackQZeros(zeros, 2, 4, 8, format));
        Assert.Equal(zeros, GptqPacking.UnpackQZeros(expected, 2, 4, 8, format));
    }

    // ---- 3 bits: 32 values in 3 words ----

    /// <summary>
    /// The three words for 32 three-bit values, written word by word from the layout in docs/formats.md §4: word 0
    /// holds values 0–9 at bits 3k and the two low bits of value 10 at bits 30–31; word 1 the top bit of value 10 at
    /// bit 0, values 11–20 from bit 1 on, and the low bit of value 21 at bit 31; word 2 the two top bits of value 21 at
    /// bits 0–1 and values 22–31 from bit 2 on.
    /// </summary>
    static uint[] ThreeBitWordsFromSpec(int[] v)
    {
        var words = new uint[3];
        void Set(int word, int bit, int valueIndex, int valueBit)
        {
            if (((v[valueIndex] >> valueBit) & 1) != 0) words[word] |= 1u << bit;
        }
        for (int k = 0; k <= 9; k++)
            for (int b = 0; b < 3; b++) Set(0, 3 * k + b, k, b);
        Set(0, 30, 10, 0); Set(0, 31, 10, 1);
        Set(1, 0, 10, 2);
        for (int k = 11; k <= 20; k++)
            for (int b = 0; b < 3; b++) Set(1, 3 * (k - 11) + 1 + b, k, b);
        Set(1, 31, 21, 0);
        Set(2, 0, 21, 1); Set(2, 1, 21, 2);
        for (int k = 22; k <= 31; k++)
            for (int b = 0; b < 3; b++) Set(2, 3 * (k - 22) + 2 + b, k, b);
        return words;
    }

    static int[] Column(int[] codes, int columns, int column) =>
        Enumerable.Range(0, codes.Length / columns).Select(i => codes[i * columns + column]).ToArray();

    [Fact]
    public void ThreeBitQWeightMatchesTheSpecBitByBit()
    {
        // [in 32, out 2]: column 0 = k mod 8, column 1 = a pseudo-random pattern.
        var random = new Random(3);
        var codes = new int[32 * 2];
        for (int k = 0; k < 32; k++) { codes[k * 2] = k % 8; codes[k * 2 + 1] = random.Next(8); }
        var column0 = ThreeBitWordsFromSpec(Column(codes, 2, 0));
        var column1 = ThreeBitWordsFromSpec(Column(codes, 2, 1));
        // qweight is [3, 2]: word row r of column c at r·2 + c.
        int[] expected = [W(column0[0]), W(column1[0]), W(column0[1]), W(column1[1]), W(column0[2]), W(column1[2])];

        // The k mod 8 column, worked out once more as literal words.
        Assert.Equal([0x88FAC688u, 0xC688FAC6u, 0xFAC688FAu], column0);
        Assert.Equal(expected, GptqPacking.PackQWeight(codes, 32, 2, 3));
        Assert.Equal(codes, GptqPacking.UnpackQWeight(expected, 32, 2, 3));
    }

    [Theory]
    [InlineData(10, 4, 0u, 1u, 0u)]          // bit 2 of value 10 is bit 0 of word 1
    [InlineData(10, 3, 0xC0000000u, 0u, 0u)] // bits 0–1 of value 10 are bits 30–31 of word 0
    [InlineData(21, 1, 0u, 0x80000000u, 0u)] // bit 0 of value 21 is bit 31 of word 1
    [InlineData(21, 6, 0u, 0u, 3u)]          // bits 1–2 of value 21 are bits 0–1 of word 2
    [InlineData(0, 7, 7u, 0u, 0u)]
    [InlineData(11, 7, 0u, 0xEu, 0u)]        // value 11 starts at bit 1 of word 1
    [InlineData(22, 7, 0u, 0u, 0x1Cu)]       // value 22 starts at bit 2 of word 2
    [InlineData(31, 7, 0u, 0u, 0xE0000000u)]
    public void ThreeBitValuesThatStraddleWordsLandWhereTheSpecSays(int index, int value, uint word0, uint word1, uint word2)
    {
        var codes = new int[32];
        codes[index] = value;
        int[] expected = [W(word0), W(word1), W(word2)];

        Assert.Equal(expected, GptqPacking.PackQWeight(codes, 32, 1, 3));
        Assert.Equal(codes, GptqPacking.UnpackQWeight(expected, 32, 1, 3));
    }

    [Theory]
    // Symmetric 3-bit zero 4: v1 stores 3 (bits 011 repeating), v2 stores 4 (bits 100 repeating) through all 96 bits.
    [InlineData(GptqCheckpointFormat.Gptq, 0xDB6DB6DBu, 0xB6DB6DB6u, 0x6DB6DB6Du)]
    [InlineData(GptqCheckpointFormat.GptqV2, 0x24924924u, 0x49249249u, 0x92492492u)]
    public void ThreeBitSymmetricQZerosArePeriodicWords(GptqCheckpointFormat format, uint word0, uint word1, uint word2)
    {
        var zeros = Enumerable.Repeat(4, 32).ToArray();
        int[] expected = [W(word0), W(word1), W(word2)];

        Assert.Equal(expected, GptqPacking.PackQZeros(zeros, 1, 32, 3, format));
        Assert.Equal(zeros, GptqPacking.UnpackQZeros(expected, 1, 32, 3, format));
    }

    [Theory]
    [InlineData(GptqCheckpointFormat.Gptq)]
    [InlineData(GptqCheckpointFormat.GptqV2)]
    public void ThreeBitQZerosMatchTheSpecAlongTheOutputDimension(GptqCheckpointFormat format)
    {
        // [groups 2, out 32]; zeros 1..7 so that v1 can hold them.
        var zeros = Enumerable.Range(0, 64).Select(i => 1 + (i * 5 + i / 32) % 7).ToArray();
        int offset = format == GptqCheckpointFormat.Gptq ? 1 : 0;
        var expected = new List<int>();
        for (int g = 0; g < 2; g++)
            expected.AddRange(ThreeBitWordsFromSpec(zeros.Skip(g * 32).Take(32).Select(z => z - offset).ToArray()).Select(W));

        Assert.Equal(expected, GptqPacking.PackQZeros(zeros, 2, 32, 3, format));
        Assert.Equal(zeros, GptqPacking.UnpackQZeros(expected.ToArray(), 2, 32, 3, format));
    }
}
