using System.Diagnostics;

namespace Qzo.Compute;

/// <summary>
/// QZO_PROFILE, a diagnostic of where a run's time goes (docs/kernels.md §8). "1": every backend operation synchronizes
/// the device before and after, so its row is the GPU's time for it. "host": nothing synchronizes, so each row is the host's
/// time to issue the operation, and the host phases that wait for results (a download) hold the device's excess; a run
/// whose operation rows add up to most of its wall time is bound by the host. Host phases (noise draws, uploads, losses on
/// the host) are timed in both modes.
/// </summary>
public static class OperationProfile
{
    public enum Mode { Off, Synchronized, Host }

    // Lazy, not a static initializer: a bad value then fails as its own one-line QzoException, not as a type-load error.
    static readonly Lazy<Mode> _current = new(() => Parse(Environment.GetEnvironmentVariable("QZO_PROFILE")));

    public static Mode Current => _current.Value;

    static readonly Dictionary<string, (int Calls, double Seconds)> _hostPhases = [];
    static readonly Lock _lock = new();

    public static Mode Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "0" or "off" => Mode.Off,
        "1" or "sync" or "synchronized" => Mode.Synchronized,
        "host" => Mode.Host,
        _ => throw new QzoException($"QZO_PROFILE={value}: expected 1 (each operation synchronized) or host (issue times)"),
    };

    /// <summary>Host-side work outside the backend's operations, summed by name while a profile is on.</summary>
    public static T Phase<T>(string name, Func<T> work)
    {
        if (Current == Mode.Off) return work();
        long start = Stopwatch.GetTimestamp();
        try { return work(); }
        finally { Record(name, Stopwatch.GetElapsedTime(start).TotalSeconds); }
    }

    public static void Phase(string name, Action work) => Phase<object?>(name, () => { work(); return null; });

    static void Record(string name, double seconds)
    {
        lock (_lock)
        {
            var (calls, total) = _hostPhases.GetValueOrDefault(name);
            _hostPhases[name] = (calls + 1, total + seconds);
        }
    }

    public static IReadOnlyDictionary<string, (int Calls, double Seconds)> HostPhases
    {
        get { lock (_lock) return new Dictionary<string, (int, double)>(_hostPhases); }
    }

    public static void ClearHostPhases() { lock (_lock) _hostPhases.Clear(); }
}
