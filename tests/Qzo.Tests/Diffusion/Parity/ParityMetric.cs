using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>The parity figure: max |ours − reference| / max |reference| over one output tensor.</summary>
static class ParityMetric
{
    public static double RelativeError(ReadOnlySpan<float> ours, ReadOnlySpan<float> reference)
    {
        double scale = 0, error = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(reference[i]));
            error = Math.Max(error, Math.Abs(ours[i] - (double)reference[i]));
        }
        return error / Math.Max(scale, double.Epsilon);
    }

    /// <summary>
    /// Prints the figure; fails when the lengths differ, a value is not finite, or it exceeds <paramref name="tolerance"/>.
    /// </summary>
    public static void Check(string label, ReadOnlySpan<float> ours, ReadOnlySpan<float> reference, double tolerance,
                             ITestOutputHelper output)
    {
        string? failure = Measure(label, ours, reference, tolerance, output);
        Assert.True(failure is null, failure);
    }

    /// <summary>Prints the figure and returns why it fails (null when it passes), for callers that report every output first.</summary>
    public static string? Measure(string label, ReadOnlySpan<float> ours, ReadOnlySpan<float> reference, double tolerance,
                                  ITestOutputHelper output)
    {
        if (ours.Length != reference.Length) return $"{label}: {ours.Length} values, the reference has {reference.Length}";
        if (!reference.ToArray().Any(v => v != 0)) return $"{label}: the reference is all zeros, the comparison would prove nothing";
        foreach (float v in ours)
            if (!float.IsFinite(v)) return $"{label}: non-finite values";
        double relative = RelativeError(ours, reference);
        output.WriteLine($"PARITY {label}: relative error {relative:E2} (tolerance {tolerance:E0})");
        return relative <= tolerance ? null : $"{label}: relative error {relative:E3} exceeds {tolerance:E0}";
    }
}
