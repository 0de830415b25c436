using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Quantization;

/// <summary>
/// The parallel, vectorized pieces of 4-bit quantization (block absmax, encoding, dequantization, the fused error, the bf16
/// widening) against plain serial implementations, as the code was before it ran in chunks: odd counts, short last blocks,
/// and counts that cross the 65,536-value chunks of BlockRanges several times.
/// </summary>
public class Bnb4BitParallelPiecesTests
{
    const int Chunk = 1 << 16;

    public static TheoryData<int, int> Shapes => new()
    {
        { 64, 1 }, { 64, 63 }, { 64, 64 }, { 64, 65 }, { 32, 1001 }, { 64, 3 * Chunk }, { 64, 3 * Chunk + 1 },
        { 64, 5 * Chunk + 37 }, { 128, 2 * Chunk - 1 }, { 4096, 3 * Chunk + 4096 * 3 + 7 }, { 2048, Chunk + 2047 },
    };

    static float[] Weight(int count, int seed)
    {
        var random = new Random(seed);
        var w = new float[count];
        for (int i = 0; i < count; i++)
            w[i] = (random.Next(50)) switch
            {
                0 => 0f,
                1 => -0f,
                2 => 1e-40f * random.Next(1, 100), // subnormal
                _ => (float)(random.NextDouble() * 2 - 1) * (1 + random.Next(4)),
            };
        return w;
    }

    static float[] SerialAbsmax(ReadOnlySpan<float> values, int blockSize)
    {
        var absmax = new float[(values.Length + blockSize - 1) / blockSize];
        for (int b = 0; b < absmax.Length; b++)
        {
            float max = 0f;
            foreach (float v in values.Slice(b * blockSize, Math.Min(blockSize, values.Length - b * blockSize)))
            {
                if (!float.IsFinite(v)) throw new QzoException($"cannot quantize a non-finite value ({v}) in block {b}");
                max = MathF.Max(max, MathF.Abs(v));
            }
            absmax[b] = max;
        }
        return absmax;
    }

    static byte[] SerialPacked(float[] weight, float[] absmax, int blockSize, FourBitCode code)
    {
        var packed = new byte[(weight.Length + 1) / 2];
        for (int k = 0; k < weight.Length; k++)
        {
            byte index = code.Encode(BlockAbsmax.Scaled(weight[k], k, absmax, blockSize, weight.Length));
            packed[k / 2] |= (byte)(k % 2 == 0 ? index << 4 : index);
        }
        if (weight.Length % 2 == 1) packed[^1] |= code.Encode(0f);
        return packed;
    }

    static float[] SerialDequantize(byte[] packed, float[] absmax, IReadOnlyList<float> code, int blockSize, int count)
    {
        var w = new float[count];
        for (int k = 0; k < count; k++) w[k] = code[Bnb4BitQuantizer.Nibble(packed, k)] * absmax[k / blockSize];
        return w;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AbsmaxIsTheSerialOne(int blockSize, int count)
    {
        var weight = Weight(count, count + blockSize);
        weight[count / 2] = 3e38f; // the largest magnitudes, in some chunk
        weight[^1] = -3.4e38f;
        Assert.Equal(SerialAbsmax(weight, blockSize), BlockAbsmax.Of(weight, blockSize));
    }

    [Theory]
    [InlineData(64, 5 * Chunk + 37, new[] { 4 * Chunk + 5, 2 * Chunk + 100, 2 * Chunk + 101 })]
    [InlineData(64, 3 * Chunk, new[] { 3 * Chunk - 1 })]
    [InlineData(4096, 3 * Chunk + 7, new[] { 3 * Chunk + 6, 10 })]
    [InlineData(64, 130, new[] { 129, 128 })]
    public void AFailureNamesTheFirstNonFiniteValueAsTheSerialScanDoes(int blockSize, int count, int[] positions)
    {
        float[] bad = [float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        for (int shift = 0; shift < bad.Length; shift++)
        {
            var weight = Weight(count, shift);
            for (int p = 0; p < positions.Length; p++) weight[positions[p]] = bad[(p + shift) % bad.Length];
            var expected = Assert.Throws<QzoException>(() => SerialAbsmax(weight, blockSize)).Message;
            Assert.Equal(expected, Assert.Throws<QzoException>(() => BlockAbsmax.Of(weight, blockSize)).Message);
            var e = Assert.Throws<QzoException>(() => Bnb4BitQuantizer.Quantize(weight, FourBitType.Nf4, blockSize));
            Assert.Equal(expected, e.Message);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheFirstFailedBlockWinsWhicheverChunkReportsFirst(bool earlierReportsFirst)
    {
        // Chunks of 1,024 blocks of 64: chunk 1 fails at block 1,030 and chunk 3 at block 3,100; both have started before
        // either reports, and one reports 200 ms after the other.
        using var bothStarted = new CountdownEvent(2);
        int failed = BlockRanges.ForEach(5L * Chunk, 64, (first, _) =>
        {
            if (first != 1024 && first != 3072) return -1;
            bothStarted.Signal();
            bothStarted.Wait(TimeSpan.FromSeconds(5));
            if ((first == 1024) != earlierReportsFirst) Thread.Sleep(200);
            return first == 1024 ? 1030 : 3100;
        });
        Assert.Equal(1030, failed);
        Assert.Equal(5 * Chunk / 64, BlockRanges.ForEach(5L * Chunk, 64, (_, _) => -1));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PackedCodesAreTheSerialOnes(int blockSize, int count)
    {
        foreach (var type in new[] { FourBitType.Nf4, FourBitType.Fp4 })
        {
            var weight = Weight(count, count * 3 + blockSize);
            var code = FourBitCode.For(type);
            var (packed, absmax) = Bnb4BitQuantizer.Quantize(weight, type, blockSize);
            Assert.Equal(SerialAbsmax(weight, blockSize), absmax);
            Assert.Equal(SerialPacked(weight, absmax, blockSize, code), packed);
        }
    }

    [Fact]
    public void VectorEncodingMatchesOneByOneOnMidpointsAndTheClampEdges()
    {
        foreach (var code in new[] { FourBitCode.Nf4, FourBitCode.Fp4 })
        {
            var sorted = code.Values.Order().ToArray();
            var values = new List<float> { 0f, -0f, 1f, -1f, 1.5f, -1.5f, float.Epsilon, -float.Epsilon };
            for (int k = 0; k + 1 < sorted.Length; k++)
            {
                float mid = (sorted[k] + sorted[k + 1]) / 2f;
                values.AddRange([mid, MathF.BitIncrement(mid), MathF.BitDecrement(mid), sorted[k]]);
            }
            if (values.Count % 2 == 1) values.Add(0.3f);
            foreach (float reciprocal in new[] { 1f, 0.5f, 3f })
            {
                var packed = new byte[values.Count / 2];
                code.EncodePairs(values.ToArray(), reciprocal, packed);
                for (int i = 0; i < values.Count; i++)
                {
                    int nibble = i % 2 == 0 ? packed[i / 2] >> 4 : packed[i / 2] & 0xF;
                    Assert.Equal(code.Encode(Math.Clamp(values[i] * reciprocal, -1f, 1f)), nibble);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void DequantizeAndTheFusedErrorAreTheSerialOnes(int blockSize, int count)
    {
        var weight = Weight(count, count + 7 * blockSize);
        var (packed, absmax) = Bnb4BitQuantizer.Quantize(weight, FourBitType.Nf4, blockSize);
        var code = FourBitCode.Nf4.Values;
        var serial = SerialDequantize(packed, absmax, code, blockSize, count);
        Assert.Equal(serial, Bnb4BitReference.Dequantize(packed, absmax, code, blockSize, count));
        double expected = QuantizeReport.RelativeError(weight, serial);
        double fused = Bnb4BitReference.RelativeError(weight, packed, absmax, code.ToArray(), blockSize);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(fused));
    }

    [Fact]
    public void ErrorSumsFedInPartsGiveTheWholeSum()
    {
        int count = 3 * Chunk + 77;
        var weight = Weight(count, 11);
        var (packed, absmax) = Bnb4BitQuantizer.Quantize(weight, FourBitType.Nf4, 128);
        var code = FourBitCode.Nf4.Values.ToArray();
        var sums = new Bnb4BitReference.ErrorSums(packed, absmax, code, 128, count);
        foreach (int start in new[] { 0, 128 * 3, Chunk, Chunk + 128 * 500, 3 * Chunk })
        {
            int end = start == 3 * Chunk ? count : new[] { 128 * 3, Chunk, Chunk + 128 * 500, 3 * Chunk }.First(e => e > start);
            sums.Add(start, weight.AsSpan(start, end - start));
        }
        Assert.Equal(Bnb4BitReference.RelativeError(weight, packed, absmax, code, 128), sums.RelativeError);
        var partial = new Bnb4BitReference.ErrorSums(packed, absmax, code, 128, count);
        partial.Add(0, weight.AsSpan(0, 128));
        Exception? notAll = null, gap = null; // a ref struct cannot go into Assert.Throws' lambda
        try { _ = partial.RelativeError; } catch (InvalidOperationException e) { notAll = e; }
        try { partial.Add(256, weight.AsSpan(256, 128)); } catch (ArgumentException e) { gap = e; }
        Assert.NotNull(notAll);
        Assert.NotNull(gap);
    }

    [Fact]
    public void TheFusedErrorOfAnAllZeroWeightIsTheSerialOne()
    {
        var weight = new float[2 * Chunk + 3];
        var (packed, absmax) = Bnb4BitQuantizer.Quantize(weight, FourBitType.Fp4, 64);
        var code = FourBitCode.Fp4.Values;
        Assert.Equal(QuantizeReport.RelativeError(weight, SerialDequantize(packed, absmax, code, 64, weight.Length)),
                     Bnb4BitReference.RelativeError(weight, packed, absmax, code.ToArray(), 64));
    }

    [Fact]
    public void FillingChunkByChunkGivesWhatAFilledWeightGives()
    {
        int count = 4 * Chunk + 101;
        var weight = Weight(count, 5);
        var buffer = new float[count + 50]; // a reused buffer, longer than this weight
        var filled = new List<(int, int)>();
        var (packed, absmax) = Bnb4BitQuantizer.Quantize(buffer.AsSpan(0, count), FourBitType.Nf4, 64, (start, end) =>
        {
            lock (filled) filled.Add((start, end));
            weight.AsSpan(start, end - start).CopyTo(buffer.AsSpan(start));
        });
        Assert.Equal(Bnb4BitQuantizer.Quantize(weight, FourBitType.Nf4, 64), (packed, absmax), new PairComparer());
        Assert.Equal(count, filled.Sum(f => f.Item2 - f.Item1)); // every value once
        Array.Clear(buffer);
        BlockRanges.Fill fill = (start, end) => weight.AsSpan(start, end - start).CopyTo(buffer.AsSpan(start));
        Assert.Equal(SerialAbsmax(weight, 64), BlockAbsmax.Of(buffer.AsSpan(0, count), 64, fill));
    }

    sealed class PairComparer : IEqualityComparer<(byte[], float[])>
    {
        public bool Equals((byte[], float[]) a, (byte[], float[]) b) => a.Item1.SequenceEqual(b.Item1) && a.Item2.SequenceEqual(b.Item2);
        public int GetHashCode((byte[], float[]) p) => 0;
    }

    [Fact]
    public void NestedCodesAreTheSerialOnes()
    {
        var random = new Random(3);
        var absmax = Enumerable.Range(0, 3 * Chunk + 300).Select(_ => 0.02f + 0.03f * (float)random.NextDouble()).ToArray();
        var nested = NestedAbsmax.Encode(absmax);
        var map = DynamicMap.Signed();
        var bounds = Bucketize.Midpoints(map);
        var centred = absmax.Select(a => a - nested.Offset).ToArray();
        var scales = SerialAbsmax(centred, 256);
        Assert.Equal(scales, nested.Absmax);
        for (int b = 0; b < absmax.Length; b++)
            Assert.Equal((byte)Bucketize.Index(bounds, BlockAbsmax.Scaled(centred[b], b, scales, 256, centred.Length)), nested.Codes[b]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(1000)]
    public void Bf16WidensAsOneValueAtATime(int count)
    {
        var random = new Random(count);
        var bits = Enumerable.Range(0, count).Select(_ => (ushort)random.Next(65536)).ToArray();
        var widened = new float[count + 3];
        BFloat16.ToSingle(bits, widened);
        for (int i = 0; i < count; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(BFloat16.ToSingle(bits[i])), BitConverter.SingleToInt32Bits(widened[i]));
        Assert.All(widened[count..], v => Assert.Equal(0f, v)); // nothing past the input is touched
    }
}
