using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Qzo.Cli.Runs;

/// <summary>
/// Seconds per phase of a run, each phase lasting from the end of the one before (or the clock's start) to its own
/// <see cref="End"/>: results.json's "phase_seconds", so a run's wall time splits into loading, evaluating and training.
/// </summary>
sealed class PhaseClock
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly JsonObject _phases = [];
    double _last;

    public void End(string phase)
    {
        double now = _clock.Elapsed.TotalSeconds;
        _phases[phase] = Math.Round(now - _last, 3);
        _last = now;
    }

    public JsonObject ToJson() => (JsonObject)_phases.DeepClone();
}
