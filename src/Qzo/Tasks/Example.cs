namespace Qzo.Tasks;

/// <summary>One training or evaluation item.</summary>
public abstract record Example;

/// <summary>A token sequence scored on the tokens marked in <see cref="Scored"/> (language-modelling loss).</summary>
public sealed record SequenceExample(int[] Ids, bool[] Scored) : Example
{
    public int ScoredCount => Scored.Count(s => s);

    /// <summary>Scored tokens the loss can count: those after the first, since position t predicts token t + 1.</summary>
    public int PredictedCount => Scored.Skip(1).Count(s => s);
}

/// <summary>
/// A classification item: one sequence per candidate answer, scored on the answer's tokens; <see cref="Label"/> is the
/// right one (the training target), <see cref="AlsoCorrect"/> any others that count as right (ReCoRD's several answers).
/// </summary>
public sealed record ChoiceExample(SequenceExample[] Candidates, int Label, int[]? AlsoCorrect = null) : Example
{
    public bool IsCorrect(int prediction) => prediction == Label || (AlsoCorrect?.Contains(prediction) ?? false);
}
