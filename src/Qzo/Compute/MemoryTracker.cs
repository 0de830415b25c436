namespace Qzo.Compute;

/// <summary>Current and peak bytes per <see cref="MemoryCategory"/>, and the peak of their sum.</summary>
public sealed class MemoryTracker
{
    static readonly int Count = Enum.GetValues<MemoryCategory>().Length;
    readonly long[] _current = new long[Count];
    readonly long[] _peak = new long[Count];
    long _total, _peakTotal;
    readonly Lock _lock = new();

    public void Allocated(MemoryCategory category, long bytes)
    {
        lock (_lock)
        {
            int c = (int)category;
            _current[c] += bytes;
            _peak[c] = Math.Max(_peak[c], _current[c]);
            _total += bytes;
            _peakTotal = Math.Max(_peakTotal, _total);
        }
    }

    public void Freed(MemoryCategory category, long bytes)
    {
        lock (_lock)
        {
            _current[(int)category] -= bytes;
            _total -= bytes;
        }
    }

    public long Current(MemoryCategory category) { lock (_lock) return _current[(int)category]; }
    public long Peak(MemoryCategory category) { lock (_lock) return _peak[(int)category]; }
    public long CurrentTotal { get { lock (_lock) return _total; } }
    /// <summary>The highest sum of all categories at any one time (not the sum of per-category peaks).</summary>
    public long PeakTotal { get { lock (_lock) return _peakTotal; } }

    /// <summary>Forget the peaks, keeping what is allocated now; e.g. to measure a training step after loading.</summary>
    public void ResetPeaks()
    {
        lock (_lock)
        {
            Array.Copy(_current, _peak, Count);
            _peakTotal = _total;
        }
    }

    public IReadOnlyDictionary<string, long> PeakBreakdown()
    {
        var result = new Dictionary<string, long>();
        foreach (var category in Enum.GetValues<MemoryCategory>()) result[category.ToString()] = Peak(category);
        result["Total"] = PeakTotal;
        return result;
    }
}
