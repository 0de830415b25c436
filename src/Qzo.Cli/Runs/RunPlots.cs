using System.Text.Json.Nodes;

namespace Qzo.Cli.Runs;

/// <summary>
/// The PNG plots of a run folder, drawn headless with ScottPlot: L+ and L− against steps, the validation metric
/// (or, for a run without one, the validation loss) against steps, and the peak memory by category (the tracking
/// allocator's breakdown, as in the paper's memory profiling figure).
/// </summary>
static class RunPlots
{
    const int Width = 900, Height = 520;

    /// <summary>Draws what the run has data for; returns the files written.</summary>
    public static IReadOnlyList<string> Draw(string run, string title, IReadOnlyDictionary<string, long> peakBytes)
    {
        var written = new List<string>();
        var lines = File.Exists(Path.Combine(run, RunFolder.Metrics))
            ? Qzo.IO.JsonlFile.ReadObjects(Path.Combine(run, RunFolder.Metrics)).Select(l => (JsonNode)l.Row).ToList()
            : [];
        var steps = lines.Where(l => (string?)l["type"] == "step").ToList();
        if (steps.Count > 0)
        {
            var plot = new ScottPlot.Plot();
            double[] x = steps.Select(s => (double)(int)s["step"]! + 1).ToArray();
            var plus = plot.Add.Scatter(x, steps.Select(s => (double)s["loss_plus"]!).ToArray());
            plus.LegendText = "L+ (loss at Δ + εz)";
            plus.MarkerSize = steps.Count > 200 ? 0 : 3;
            var minus = plot.Add.Scatter(x, steps.Select(s => (double)s["loss_minus"]!).ToArray());
            minus.LegendText = "L− (loss at Δ − εz)";
            minus.MarkerSize = plus.MarkerSize;
            Finish(plot, $"{title}: training loss", "step", "loss", Path.Combine(run, RunFolder.LossPlot), written,
                ScottPlot.Alignment.UpperRight);
        }
        var evals = lines.Where(l => (string?)l["type"] == "eval" && l["value"] is not null).ToList();
        var losses = lines.Where(l => (string?)l["type"] == "eval" && l["loss"] is not null).ToList();
        if (evals.Count == 0 && losses.Count > 0)
        {   // a run without a task metric (a diffusion objective): its validation loss
            var plot = new ScottPlot.Plot();
            var line = plot.Add.Scatter(losses.Select(e => (double)(int)e["step"]!).ToArray(),
                                        losses.Select(e => (double)e["loss"]!).ToArray());
            line.LegendText = "validation loss";
            Finish(plot, $"{title}: validation loss", "step", "loss", Path.Combine(run, RunFolder.ValidationPlot), written,
                ScottPlot.Alignment.UpperRight);
        }
        if (evals.Count > 0)
        {
            var plot = new ScottPlot.Plot();
            string metric = (string)evals[0]["metric"]!;
            var line = plot.Add.Scatter(evals.Select(e => (double)(int)e["step"]!).ToArray(),
                evals.Select(e => 100 * (double)e["value"]!).ToArray());
            line.LegendText = $"validation {metric} (%)";
            Finish(plot, $"{title}: validation {metric}", "step", $"{metric} (%)", Path.Combine(run, RunFolder.ValidationPlot), written,
                ScottPlot.Alignment.LowerRight);
        }
        var categories = peakBytes.Where(kv => kv.Key != "Total").ToList();
        if (categories.Count > 0)
        {
            var plot = new ScottPlot.Plot();
            var bars = categories.Select((kv, i) => new ScottPlot.Bar { Position = i, Value = kv.Value / (double)(1 << 20),
                FillColor = ScottPlot.Colors.SteelBlue }).ToList();
            bars.Add(new ScottPlot.Bar { Position = categories.Count, Value = peakBytes.GetValueOrDefault("Total") / (double)(1 << 20),
                FillColor = ScottPlot.Colors.Gray });
            plot.Add.Bars(bars);
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, bars.Count).Select(i => (double)i).ToArray(),
                                      categories.Select(kv => kv.Key).Append("Total (peak)").ToArray());
            plot.Axes.Margins(bottom: 0);
            Finish(plot, $"{title}: peak memory by category", "", "MiB", Path.Combine(run, RunFolder.MemoryPlot), written);
        }
        return written;
    }

    static void Finish(ScottPlot.Plot plot, string title, string x, string y, string path, List<string> written,
                       ScottPlot.Alignment legend = ScottPlot.Alignment.UpperRight)
    {
        plot.Title(title);
        if (x.Length > 0) plot.XLabel(x);
        plot.YLabel(y);
        if (plot.GetPlottables().Any(p => p is ScottPlot.Plottables.Scatter)) plot.ShowLegend(legend);
        plot.SavePng(path, Width, Height);
        written.Add(path);
    }
}
