namespace Qzo.Quantization.Gptq;

/// <summary>Round-to-nearest quantization of one linear into the GPTQ layout (no calibration, no act-order).</summary>
public static class RtnQuantizer
{
    // Input rows are turned into codes and packed this many at a time, so the temporary codes stay small
    // (a multiple of 32, so every chunk fills whole qweight rows for every bit width).
    const int RowsPerChunk = 512;

    /// <param name="weight">row-major [outFeatures, inFeatures] float32, as a checkpoint stores a linear's weight</param>
    public static GptqLinearTensors Quantize(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, GptqConfig config)
    {
        int bits = config.Bits;
        GptqPacking.CheckBits(bits);
        GptqPacking.CheckPackable(inFeatures, bits, "in_features", "qweight");
        GptqPacking.CheckPackable(outFeatures, bits, "out_features", "qzeros");
        if (weight.Length != (long)outFeatures * inFeatures)
            throw new ArgumentException($"weight has {weight.Length} elements, expected {outFeatures}·{inFeatures}", nameof(weight));

        int maxq = (1 << bits) - 1;
        int groupSize = config.EffectiveGroupSize(inFeatures);
        int groups = GptqPacking.GroupCount(inFeatures, config.GroupSize);

        // Grid per (group, output row); the last group is shorter when in is not a multiple of the group size.
        var scales = new Half[groups * outFeatures];
        var stepSizes = new float[groups * outFeatures]; // the fp16 scales as float32: codes are computed with these
        var zeros = new int[groups * outFeatures];
        for (int o = 0; o < outFeatures; o++)
        {
            var row = weight.Slice(o * inFeatures, inFeatures);
            for (int g = 0; g < groups; g++)
            {
                int start = g * groupSize;
                float scale;
                int zero;
                try
                {
                    (scale, zero) = GptqGrid.FindParams(row.Slice(start, Math.Min(groupSize, inFeatures - start)), bits, config.Sym);
                }
                catch (QzoException e)
                {
                    throw new QzoException($"output row {o}, input columns {start}..: {e.Message}", e);
                }
                scales[g * outFeatures + o] = GptqGrid.ToStoredScale(scale);
                stepSizes[g * outFeatures + o] = (float)scales[g * outFeatures + o];
                zeros[g * outFeatures + o] = zero;
            }
        }

        var qweight = new int[inFeatures * bits / 32 * outFeatures];
        var codes = new int[Math.Min(RowsPerChunk, inFeatures) * outFeatures];
        for (int i0 = 0; i0 < inFeatures; i0 += RowsPerChunk)
        {
            int rows = Math.Min(RowsPerChunk, inFeatures - i0);
            for (int o = 0; o < outFeatures; o++)
            {
                var row = weight.Slice(o * inFeatures, inFeatures);
                for (int i = i0; i < i0 + rows; i++)
                {
                    int gi = (i / groupSize) * outFeatures + o;
                    codes[(i - i0) * outFeatures + o] = GptqGrid.Code(row[i], stepSizes[gi], zeros[gi], maxq);
                }
            }
            int wordRows = rows * bits / 32;
            GptqBitStream.Pack(codes.AsSpan(0, rows * outFeatures), qweight.AsSpan(i0 * bits / 32 * outFeatures, wordRows * outFeatures),
                rows, outFeatures, bits);
        }

        var qzeros = GptqPacking.PackQZeros(zeros, groups, outFeatures, bits, config.Format);
        return new GptqLinearTensors(qweight, qzeros, scales, GptqPacking.DefaultGIdx(inFeatures, config.GroupSize), inFeatures,
            outFeatures, groups);
    }
}
