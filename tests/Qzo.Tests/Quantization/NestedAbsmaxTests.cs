using Qzo.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Quantization;

/// <summary>Double quantization of the block absmax (bitsandbytes compress_statistics) and the export's re-encoding.</summary>
public class NestedAbsmaxTests
{
    [Fact]
    public void DynamicMapIsBitsandbytesSignedEightBitMap()
    {
        var map = DynamicMap.Signed();
        Assert.Equal(256, map.Length);
        Assert.Equal(map.Order(), map);
        Assert.Equal(1f, map[^1]);
        Assert.Contains(0f, map);
        // Decade 10^−6 has one midpoint of linspace(0.1, 1, 2): 0.55e−6; decade 10^−5 the midpoints 0.325 and 0.775 of
        // linspace(0.1, 1, 3).
        float low = 0.1f, high = 1f, step = (high - low) / 2f, middle = high - step; // torch.linspace(0.1, 1, 3) in float32
        Assert.Equal(Product((float)1e-6, (low + high) / 2f), map.Where(v => v > 0).Min());
        Assert.Contains(Product((float)1e-5, (low + middle) / 2f), map);
        Assert.Contains(-Product((float)1e-5, (middle + high) / 2f), map);
        // Without a −1 twin of 1, the negatives mirror the positives below 1: 127 each, plus 0 and 1.
        Assert.Equal(127, map.Count(v => v < 0));
        Assert.All(map.Where(v => v > 0 && v < 1), v => Assert.Contains(-v, map));
        Assert.Equal(64, map.Count(v => v >= 0.1f && v < 1f)); // the top decade: 2^6 midpoints
    }

    static float Product(float a, float b) => a * b; // rounded once in float32, not folded by the compiler

    static float[] Absmax(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => 0.02f + 0.03f * (float)random.NextDouble()).ToArray();
    }

    [Fact]
    public void EncodeKeepsEveryAbsmaxWithinHalfAStepOfTheGrid()
    {
        var absmax = Absmax(600, 1); // three nested blocks of 256, the last one short
        var nested = NestedAbsmax.Encode(absmax);
        Assert.Equal(3, nested.Absmax.Length);
        Assert.Equal(absmax.Average(), nested.Offset, 1e-6);
        var decoded = nested.Decode();
        // The top decade's steps are 0.9/64 of the nested scale; a half step bounds the error.
        for (int b = 0; b < absmax.Length; b++)
            Assert.True(Math.Abs(decoded[b] - absmax[b]) <= 0.9 / 128 * nested.Absmax[b / 256] + 1e-7,
                $"block {b}: {decoded[b]} for {absmax[b]}");
    }

    [Fact]
    public void ReencodingUnchangedValuesGivesTheSameBytes()
    {
        var nested = NestedAbsmax.Encode(Absmax(300, 2));
        var decoded = nested.Decode();
        var again = nested.Reencode(decoded, decoded);
        Assert.Equal(nested.Codes, again.Codes);
        Assert.Equal(nested.Absmax, again.Absmax);
        Assert.Equal(nested.Offset, again.Offset);
    }

    [Fact]
    public void AMovedBlockTakesTheNearestCodeAndOnlyItChanges()
    {
        var nested = NestedAbsmax.Encode(Absmax(300, 3));
        var decoded = nested.Decode();
        var tuned = (float[])decoded.Clone();
        tuned[5] += 0.004f;   // several grid steps
        tuned[6] += 1e-9f;    // far below one step: rounds back to its code
        var again = nested.Reencode(decoded, tuned);
        var result = again.Decode();
        for (int b = 0; b < tuned.Length; b++)
            if (b != 5) Assert.Equal(nested.Codes[b], again.Codes[b]);
        Assert.NotEqual(nested.Codes[5], again.Codes[5]);
        for (int c = 0; c < 256; c++) // no other code decodes closer to the tuned value
            Assert.True(Math.Abs(result[5] - tuned[5]) <= Math.Abs(nested.Map[c] * again.Absmax[0] + nested.Offset - tuned[5]));
        Assert.Equal(nested.Absmax, again.Absmax);
    }

    [Fact]
    public void AValueBeyondTheNestedScaleWidensItsBlockOnly()
    {
        var nested = NestedAbsmax.Encode(Absmax(600, 4));
        var decoded = nested.Decode();
        var tuned = (float[])decoded.Clone();
        tuned[300] = nested.Offset + 2 * nested.Absmax[1];
        var again = nested.Reencode(decoded, tuned);
        Assert.Equal(2 * nested.Absmax[1], again.Absmax[1], 1e-6);
        Assert.Equal(nested.Absmax[0], again.Absmax[0]);
        Assert.Equal(nested.Absmax[2], again.Absmax[2]);
        Assert.Equal(tuned[300], again.Decode()[300], 1e-6);
        Assert.Equal(nested.Codes[..256], again.Codes[..256]);
    }
}
