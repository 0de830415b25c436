namespace Qzo.DeviceTests.Kernels;

/// <summary>How far a variant's result is from the reference: the largest absolute error, the largest relative error over
/// elements of magnitude at least 1e-3 (smaller ones say little), and whether every element keeps the tolerance.</summary>
readonly record struct ResultCheck(double MaxAbs, double MaxRel, bool Passed, string? FirstFailure)
{
    public static ResultCheck Compare(double[] expected, double[] actual, Tolerance tolerance)
    {
        if (expected.Length != actual.Length)
            return new(double.NaN, double.NaN, false, $"{actual.Length} values against the reference's {expected.Length}");
        double maxAbs = 0, maxRel = 0;
        string? first = null;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a) || e == a) continue;
            double error = Math.Abs(a - e);
            if (double.IsNaN(error)) error = double.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, error);
            if (Math.Abs(e) >= 1e-3) maxRel = Math.Max(maxRel, error / Math.Abs(e));
            if (first is null && !(error <= tolerance.Relative * Math.Abs(e) + tolerance.Absolute))
                first = $"element {i}: {a:G9} against {e:G9}";
        }
        return new(maxAbs, maxRel, first is null, first);
    }
}
