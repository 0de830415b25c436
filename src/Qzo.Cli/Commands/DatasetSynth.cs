using System.CommandLine;
using System.Diagnostics;
using Qzo.Imaging;
using Qzo.IO;

namespace Qzo.Cli.Commands;

/// <summary>
/// `qzo synth --dataset styled-shapes`: a synthetic image–caption dataset (Imaging/StyledShapes) written as an ImageFolder
/// with metadata.jsonl, instead of a model. Its own options are --count and --resolution; --out, --seed and --force are shared.
/// </summary>
sealed class DatasetSynth
{
    public const string StyledShapesName = "styled-shapes";

    public Option<string?> Dataset { get; } = new("--dataset")
    {
        Description = $"Write a synthetic image–caption dataset instead of a model: {StyledShapesName} (shapes in one palette " +
                      "and outline style, captions such as \"a red circle on a teal background in the qzo style\"), as PNGs " +
                      "and a metadata.jsonl that qzo prepare reads",
    };
    readonly Option<int> _count = new Option<int>("--count")
        { Description = "--dataset: number of images", DefaultValueFactory = _ => 64 }
        .Range(v => v is >= 1 and <= 1_000_000, "in [1, 1000000]");
    readonly Option<int> _resolution = new Option<int>("--resolution")
        { Description = "--dataset: image side in pixels", DefaultValueFactory = _ => 64 }
        .Range(v => v is >= 8 and <= 4096, "in [8, 4096]");

    public IEnumerable<Option> Options => [Dataset, _count, _resolution];

    /// <summary>The dataset-only options given on a command line without --dataset.</summary>
    public IEnumerable<string> Given(ParseResult r) =>
        new Option[] { _count, _resolution }.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name);

    /// <param name="modelOnly">synth's options that only make sense for a model.</param>
    public void Run(ParseResult r, IEnumerable<Option> modelOnly, Option<string> output, Option<ulong> seed, Option<bool> force)
    {
        string name = r.GetValue(Dataset)!;
        if (name != StyledShapesName) throw new QzoException($"--dataset '{name}' is not known (supported: {StyledShapesName})");
        var given = modelOnly.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 0)
            throw new QzoException($"{string.Join(", ", given)} {(given.Count == 1 ? "is an option" : "are options")} of a model; " +
                                   "--dataset takes --count, --resolution and --seed");
        int count = r.GetValue(_count), resolution = r.GetValue(_resolution);
        using var outputs = CommonOptions.Outputs();
        string shown = r.GetValue(output)!, target = outputs.Folder(shown, "--out", r.GetValue(force));
        var clock = Stopwatch.StartNew();
        var gate = new object();
        ProgressDisplay.Run("drawing", report => OutputFolder.Write(target, r.GetValue(force), staging =>
            StyledShapes.WriteImageFolder(staging, count, resolution, r.GetValue(seed), n =>
            {
                lock (gate) report((double)n / count, $"{n}/{count}");
            })));
        Console.WriteLine($"wrote {shown}: {count} {StyledShapesName} images of {resolution}×{resolution} and metadata.jsonl " +
                          $"(caption column \"text\") in {clock.Elapsed.TotalSeconds:F1} s");
    }
}
