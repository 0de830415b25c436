namespace Qzo.Tasks;

/// <summary>
/// One row of a task, rendered: the prompt, and either the candidate completions with the indices of the correct
/// ones (classification, multiple choice) or the gold answers and the training target (generation).
/// </summary>
public sealed record TaskItem(string Prompt, IReadOnlyList<string> Candidates, IReadOnlyList<int> Correct,
                              IReadOnlyList<string> Answers, string? Target, string Where)
{
    public bool IsGeneration => Target is not null;

    /// <summary>What a demonstration or a training sequence shows: the prompt completed correctly.</summary>
    public string Completed => Prompt + (Target ?? Candidates[Correct[0]]);
}
