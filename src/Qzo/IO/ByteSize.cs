namespace Qzo.IO;

/// <summary>
/// Byte counts for people, in the style of the CLI's <c>CommonOptions.Bytes</c> ("41.00 GiB"), extended to TiB, PiB and
/// EiB and taking a double, so estimates of absurd sizes (past <see cref="long.MaxValue"/>) still print.
/// </summary>
public static class ByteSize
{
    static readonly string[] Units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    public static string Text(double bytes)
    {
        if (bytes < 1024) return $"{bytes:F0} B";
        int unit = 0;
        double value = bytes / 1024;
        while (value >= 1024 && unit < Units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{value:F1} {Units[unit]}" : $"{value:F2} {Units[unit]}";
    }
}
