using System.Text.Json.Nodes;
using Qzo.Tasks;

namespace Qzo.Training;

/// <summary>metrics.jsonl: one line per step (seed, L+, L−, d, d', lr) and one per evaluation, flushed as written.</summary>
public sealed class MetricsWriter : IDisposable
{
    readonly StreamWriter? _writer;

    public MetricsWriter(string? path)
    {
        if (path is null) return;
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        _writer = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    public void Step(ZoStepRecord r, double elapsedSeconds) => Write(new JsonObject
    {
        ["type"] = "step", ["step"] = r.Step, ["seed"] = r.Seed, ["loss_plus"] = r.LossPlus, ["loss_minus"] = r.LossMinus,
        ["d"] = r.D, ["d_clipped"] = r.DClipped, ["applied"] = r.Applied, ["lr"] = r.Lr, ["elapsed_s"] = Math.Round(elapsedSeconds, 3),
    });

    public void Evaluation(int step, EvaluationResult e, double elapsedSeconds) => Write(new JsonObject
    {
        ["type"] = "eval", ["step"] = step, ["loss"] = e.Loss, ["perplexity"] = e.Perplexity, ["accuracy"] = e.Accuracy,
        ["examples"] = e.Examples, ["elapsed_s"] = Math.Round(elapsedSeconds, 3),
    });

    void Write(JsonObject line) => _writer?.WriteLine(line.ToJsonString());

    public void Dispose() => _writer?.Dispose();
}
