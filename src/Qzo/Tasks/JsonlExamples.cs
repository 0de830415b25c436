namespace Qzo.Tasks;

/// <summary>The examples of a JSONL file that score something, and how many rows were skipped because they score nothing.</summary>
public sealed record JsonlExamples(IReadOnlyList<Example> Examples, int Skipped)
{
    public int Count => Examples.Count;

    /// <summary>"2 rows skipped: nothing to score", or null when none were.</summary>
    public string? SkippedNote => Skipped == 0 ? null : $"{Skipped} row{(Skipped == 1 ? "" : "s")} skipped: nothing to score";
}
