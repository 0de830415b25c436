namespace Qzo.Quantization.Bnb;

/// <summary>
/// bitsandbytes' 4-bit quantization (quantize_4bit, default backend) of one flattened weight: blocks of
/// <c>blockSize</c> values share an fp32 absmax; each value becomes the index of the nearest table entry of its
/// scaled value; indices are packed two per byte, the first in the high nibble (an odd count is padded with a 0).
/// </summary>
public static class Bnb4BitQuantizer
{
    /// <summary>Values encoded per parallel chunk: a whole number of blocks, so chunks never share a packed byte.</summary>
    const int ChunkValues = 1 << 20;

    public static (byte[] Packed, float[] Absmax) Quantize(ReadOnlySpan<float> weight, FourBitType type, int blockSize)
    {
        var code = FourBitCode.For(type);
        var absmax = BlockAbsmax.Of(weight, blockSize);
        var packed = new byte[(weight.Length + 1) / 2];
        int chunk = Math.Max(1, ChunkValues / blockSize) * blockSize; // even: every supported block size is
        int chunks = (weight.Length + chunk - 1) / chunk;
        if (chunks <= 1) Encode(weight, 0, weight.Length, absmax, blockSize, code, packed);
        else
        {
            var values = weight.ToArray();
            Parallel.For(0, chunks, c =>
                Encode(values, c * chunk, Math.Min(values.Length, (c + 1) * chunk), absmax, blockSize, code, packed));
        }
        // The padding value 0 encodes as the index nearest 0, as bitsandbytes pads the scaled values before encoding.
        if (weight.Length % 2 == 1) packed[^1] |= code.Encode(0f);
        return (packed, absmax);
    }

    static void Encode(ReadOnlySpan<float> weight, int start, int end, float[] absmax, int blockSize, FourBitCode code, byte[] packed)
    {
        for (int k = start; k < end; k++)
        {
            byte index = code.Encode(BlockAbsmax.Scaled(weight[k], k, absmax, blockSize, weight.Length));
            packed[k / 2] |= (byte)(k % 2 == 0 ? index << 4 : index);
        }
    }

    /// <summary>The 4-bit index of element k: the high nibble of byte k/2 for even k, the low one for odd k.</summary>
    public static int Nibble(ReadOnlySpan<byte> packed, long k) => k % 2 == 0 ? packed[(int)(k / 2)] >> 4 : packed[(int)(k / 2)] & 0xF;
}
