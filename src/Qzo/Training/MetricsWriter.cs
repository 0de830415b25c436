using System.Text.Json.Nodes;
using Qzo.Tasks;

namespace Qzo.Training;

/// <summary>metrics.jsonl: one line per step (seed, L+, L−, d, d', lr) and one per evaluation, flushed as written.</summary>
public sealed class MetricsWriter : IDisposable
{
    readonly StreamWriter? _writer;

    /// <param name="resumeAt">continue a resumed run: keep the first resumeAt bytes (what its checkpoint had seen) and append.</param>
    public MetricsWriter(string? path, long? resumeAt = null)
    {
        if (path is null) return;
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        var stream = new FileStream(path, resumeAt is null ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read);
        if (resumeAt is long keep)
        {
            if (stream.Length < keep) throw new QzoException($"{path}: has {stream.Length} bytes but the checkpoint saw {keep}; the metrics file was cut short");
            stream.SetLength(keep);
            stream.Position = keep;
        }
        _writer = new StreamWriter(stream) { AutoFlush = true };
    }

    /// <summary>Bytes written so far (what a checkpoint records).</summary>
    public long Position => _writer?.BaseStream.Position ?? 0;

    public void Step(ZoStepRecord r, double elapsedSeconds) => Write(new JsonObject
    {
        ["type"] = "step", ["step"] = r.Step, ["seed"] = r.Seed, ["loss_plus"] = r.LossPlus, ["loss_minus"] = r.LossMinus,
        ["d"] = r.D, ["d_clipped"] = r.DClipped, ["applied"] = r.Applied, ["lr"] = r.Lr, ["elapsed_s"] = Math.Round(elapsedSeconds, 3),
    });

    public void Evaluation(int step, EvaluationResult e, double elapsedSeconds)
    {
        var line = EvaluationJson.Write(e);
        line.Insert(0, "type", "eval");
        line.Insert(1, "step", step);
        line["elapsed_s"] = Math.Round(elapsedSeconds, 3);
        Write(line);
    }

    void Write(JsonObject line) => _writer?.WriteLine(line.ToJsonString());

    public void Dispose() => _writer?.Dispose();
}
