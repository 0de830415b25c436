using Xunit.Abstractions;

namespace Qzo.Tests.Encoders;

static class EncoderChecks
{
    /// <summary>
    /// max |ours − reference| ≤ <paramref name="tolerance"/> · max |reference| (the fixtures' rule: 1e-4 for fp32 runs, 2e-2
    /// for bf16); prints the error either way.
    /// </summary>
    public static void Close(string what, ReadOnlySpan<float> ours, ReadOnlySpan<float> reference, double tolerance,
                             ITestOutputHelper? output = null)
    {
        Assert.True(ours.Length == reference.Length, $"{what}: {ours.Length} values, the reference has {reference.Length}");
        double scale = 0, error = 0;
        int worst = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(reference[i]));
            double e = Math.Abs((double)ours[i] - reference[i]);
            if (e > error) { error = e; worst = i; }
        }
        output?.WriteLine($"{what}: max |error| {error:E2} = {error / scale:E2} of max |ref| {scale:G4}");
        Assert.True(scale > 0, $"{what}: the reference is all zeros");
        Assert.True(error <= tolerance * scale,
            $"{what}: max |error| {error:E3} at {worst} (ours {ours[worst]}, reference {reference[worst]}) exceeds " +
            $"{tolerance:E1} of max |reference| {scale:G5}");
    }

    /// <summary>Row-major flattening of [rows][width] doubles, as floats.</summary>
    public static float[] Flat(IEnumerable<double[]> rows) => rows.SelectMany(r => r).Select(v => (float)v).ToArray();
}
