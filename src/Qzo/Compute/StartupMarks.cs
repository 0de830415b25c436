using System.Diagnostics;

namespace Qzo.Compute;

/// <summary>
/// Seconds from the process's start to named points of a start-up (the runtime reaching Main, the CUDA context, cuBLAS,
/// the CUDA C modules), so a slow start can be split rather than guessed at (`qzo bench` prints them).
/// </summary>
public static class StartupMarks
{
    static readonly List<(string Name, double Seconds)> _marks = [];
    static readonly Lock _lock = new();
    static readonly DateTime _processStart = Process.GetCurrentProcess().StartTime;

    public static void Mark(string name)
    {
        double seconds = (DateTime.Now - _processStart).TotalSeconds;
        lock (_lock) _marks.Add((name, seconds));
    }

    public static IReadOnlyList<(string Name, double Seconds)> All { get { lock (_lock) return _marks.ToList(); } }
}
