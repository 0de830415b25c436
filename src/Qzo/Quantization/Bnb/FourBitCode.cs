using System.Numerics;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// The 16-value lookup table of a 4-bit type (bitsandbytes functional.get_4bit_type) and the nearest-value encoder of
/// its default backend: the index whose value is nearest, found against the midpoints of the sorted values, with a
/// value exactly on a midpoint going to the lower one (torch.bucketize).
/// </summary>
public sealed class FourBitCode
{
    static readonly float[] Nf4Values =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
        -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
        0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
        0.7229568362236023f, 1.0f,
    ];

    // Listed by bit pattern (sign, 2 exponent bits, 1 mantissa bit), then divided by the largest magnitude, 12.
    static readonly float[] Fp4Unscaled = [0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f, 0f, -0.0625f, -8f, -12f, -4f, -6f, -2f, -3f];

    public static FourBitCode Nf4 { get; } = new(Nf4Values);
    public static FourBitCode Fp4 { get; } = new(Fp4Unscaled.Select(v => v / 12f).ToArray());

    public static FourBitCode For(FourBitType type) => type == FourBitType.Nf4 ? Nf4 : Fp4;

    readonly int[] _sortedToIndex;
    readonly float[] _midpoints;
    readonly Vector<float>[] _midpointVectors;

    FourBitCode(float[] values)
    {
        Values = values;
        _sortedToIndex = Enumerable.Range(0, 16).OrderBy(i => values[i]).ToArray(); // a stable sort, as torch.argsort on 16 values
        _midpoints = new float[15];
        for (int k = 0; k < 15; k++) _midpoints[k] = (values[_sortedToIndex[k]] + values[_sortedToIndex[k + 1]]) / 2f;
        _midpointVectors = _midpoints.Select(m => new Vector<float>(m)).ToArray();
    }

    /// <summary>The table, by 4-bit index.</summary>
    public IReadOnlyList<float> Values { get; }

    /// <summary>The index whose value is nearest <paramref name="scaled"/> (in [−1, 1]).</summary>
    public byte Encode(float scaled)
    {
        int position = 0;
        while (position < 15 && _midpoints[position] < scaled) position++;
        return (byte)_sortedToIndex[position];
    }

    /// <summary>
    /// Encodes each value times <paramref name="reciprocal"/>, clamped to [−1, 1], as <see cref="Encode"/> does one at a time,
    /// and packs the indices two per byte, the first in the high nibble; <paramref name="values"/> has an even length.
    /// A vector at a time, the position among the sorted values is the count of midpoints below (they never decrease).
    /// </summary>
    public void EncodePairs(ReadOnlySpan<float> values, float reciprocal, Span<byte> packed)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            Span<int> positions = stackalloc int[Vector<int>.Count];
            var scale = new Vector<float>(reciprocal);
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var scaled = Vector.Min(Vector.Max(new Vector<float>(values[i..]) * scale, -Vector<float>.One), Vector<float>.One);
                var below = Vector<int>.Zero;
                foreach (var midpoint in _midpointVectors) below -= Vector.LessThan(midpoint, scaled);
                below.CopyTo(positions);
                for (int lane = 0; lane < positions.Length; lane += 2)
                    packed[(i + lane) / 2] = (byte)(_sortedToIndex[positions[lane]] << 4 | _sortedToIndex[positions[lane + 1]]);
            }
        }
        for (; i < values.Length; i += 2)
            packed[i / 2] = (byte)(Encode(Math.Clamp(values[i] * reciprocal, -1f, 1f)) << 4 |
                                   Encode(Math.Clamp(values[i + 1] * reciprocal, -1f, 1f)));
    }
}
