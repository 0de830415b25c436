using System.Text.Json.Nodes;
using Qzo.Compute;

namespace Qzo.Training;

/// <summary>
/// --compare-compute: every perturbed loss of a run evaluated twice, in the run's precision and in another (fp8), on the
/// same batch and z; training follows the first. Each step's pair gives the directional derivative d' in both, and
/// <see cref="ToJson"/> says how well the second tracks the first: correlation, sign agreement, relative error
/// (docs/kernels.md §9). Costs two more forward passes a step.
/// </summary>
public sealed class PrecisionComparison<TExample>(IObjective<TExample> inner, IBackend backend, LinearPrecision other, float epsilon)
    : IObjective<TExample>
{
    readonly List<(ulong Seed, float Scale, double Run, double Other)> _probes = [];

    public LinearPrecision Other => other;

    /// <summary><paramref name="objective"/> itself without --compare-compute; else wrapped.</summary>
    public static IObjective<TExample> Wrap(IObjective<TExample> objective, IBackend backend, ZoOptions options) =>
        options.ComparePrecision is { } other ? new PrecisionComparison<TExample>(objective, backend, other, options.Epsilon) : objective;

    public double Loss(IReadOnlyList<TExample> batch, Perturbation p)
    {
        double run = inner.Loss(batch, p);
        if (p.IsNone) return run;
        var precision = backend.QuantizedLinearPrecision;
        backend.QuantizedLinearPrecision = other;
        try { _probes.Add((p.Seed, p.Scale, run, inner.Loss(batch, p))); }
        finally { backend.QuantizedLinearPrecision = precision; }
        return run;
    }

    /// <summary>Each step's d' = (L+ − L−)/(2ε) in the run's precision and in the other, in step order.</summary>
    public IReadOnlyList<(double Run, double Other)> Estimates()
    {
        var pairs = new List<(double, double)>();
        for (int i = 0; i + 1 < _probes.Count; i++)
        {
            var (plus, minus) = (_probes[i], _probes[i + 1]);
            if (plus.Seed != minus.Seed || plus.Scale <= 0 || minus.Scale >= 0) continue;
            pairs.Add(((plus.Run - minus.Run) / (2.0 * epsilon), (plus.Other - minus.Other) / (2.0 * epsilon)));
            i++;
        }
        return pairs;
    }

    public JsonObject ToJson()
    {
        var d = Estimates();
        var run = d.Select(e => e.Run).ToArray();
        var second = d.Select(e => e.Other).ToArray();
        double rms(IEnumerable<double> v) => v.Any() ? Math.Sqrt(v.Average(x => x * x)) : double.NaN;
        var relative = d.Where(e => e.Run != 0).Select(e => Math.Abs(e.Other - e.Run) / Math.Abs(e.Run)).Order().ToArray();
        return new JsonObject
        {
            ["other"] = other.ToString().ToLowerInvariant(), ["steps"] = d.Count,
            ["correlation"] = Finite(Correlation(run, second)),
            ["sign_agreement"] = d.Count == 0 ? null : (double)d.Count(e => Math.Sign(e.Run) == Math.Sign(e.Other)) / d.Count,
            ["relative_error_median"] = relative.Length == 0 ? null : relative[relative.Length / 2],
            ["rms_difference_over_rms"] = Finite(rms(d.Select(e => e.Other - e.Run)) / rms(run)),
            ["loss_abs_difference_mean"] = _probes.Count == 0 ? null : _probes.Average(p => Math.Abs(p.Other - p.Run)),
            ["d_run"] = new JsonArray(run.Select(v => (JsonNode)v).ToArray()),
            ["d_other"] = new JsonArray(second.Select(v => (JsonNode)v).ToArray()),
        };
    }

    static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>Pearson's correlation; NaN for fewer than two values or no spread.</summary>
    public static double Correlation(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count < 2) return double.NaN;
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Count; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.Sqrt(saa * sbb);
    }
}
