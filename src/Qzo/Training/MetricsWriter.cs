using System.Text.Json.Nodes;

namespace Qzo.Training;

/// <summary>metrics.jsonl: one line per step (seed, L+, L−, d, d', lr) and one per evaluation, flushed as written.</summary>
public sealed class MetricsWriter : IDisposable
{
    readonly StreamWriter? _writer;
    readonly string? _path;
    long _position;

    /// <param name="resumeAt">continue a resumed run: keep the first resumeAt bytes (what its checkpoint had seen) and append.</param>
    public MetricsWriter(string? path, long? resumeAt = null)
    {
        if (path is null) return;
        _path = path;
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null) Directory.CreateDirectory(folder);
            var stream = new FileStream(path, resumeAt is null ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read);
            if (resumeAt is long keep)
            {
                if (stream.Length < keep) throw new QzoException(
                    $"{path}: has {stream.Length} bytes but the checkpoint saw {keep}; the metrics file was cut short");
                stream.SetLength(keep);
                stream.Position = keep;
                _position = keep;
            }
            _writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false)) { AutoFlush = true };
        }
        catch (Exception e) when (Qzo.IO.IoFailure.Is(e))
        {
            throw Qzo.IO.IoFailure.Writing(path, e);
        }
    }

    /// <summary>Bytes written so far (what a checkpoint records); counted here, since a FIFO or a device cannot tell.</summary>
    public long Position => _position;

    /// <summary>With several directions, their means, and each direction in "directions" (seed, losses, applied).</summary>
    public void Step(ZoStepRecord r, double elapsedSeconds)
    {
        var line = new JsonObject
        {
            ["type"] = "step", ["step"] = r.Step, ["seed"] = r.Seed, ["loss_plus"] = r.LossPlus, ["loss_minus"] = r.LossMinus,
            ["d"] = r.D, ["d_clipped"] = r.DClipped, ["applied"] = r.Applied, ["lr"] = r.Lr,
        };
        if (r.Directions is { } directions)
            line["directions"] = new JsonArray(directions.Select(p => (JsonNode)new JsonObject
            {
                ["seed"] = p.Seed, ["loss_plus"] = p.LossPlus, ["loss_minus"] = p.LossMinus, ["applied"] = p.Applied,
            }).ToArray());
        line["elapsed_s"] = Math.Round(elapsedSeconds, 3);
        Write(line);
    }

    public void Evaluation(int step, EvaluationResult e, double elapsedSeconds)
    {
        var line = EvaluationJson.Write(e);
        line.Insert(0, "type", "eval");
        line.Insert(1, "step", step);
        line["elapsed_s"] = Math.Round(elapsedSeconds, 3);
        Write(line);
    }

    void Write(JsonObject line)
    {
        if (_writer is null) return;
        string text = line.ToJsonString() + "\n";
        try { _writer.Write(text); }
        catch (Exception e) when (Qzo.IO.IoFailure.Is(e)) { throw Qzo.IO.IoFailure.Writing(_path!, e); }
        _position += System.Text.Encoding.UTF8.GetByteCount(text);
    }

    public void Dispose()
    {
        try { _writer?.Dispose(); }
        // a failed write has been reported already; the flush on close fails the same way
        catch (Exception e) when (Qzo.IO.IoFailure.Is(e)) { }
    }
}
