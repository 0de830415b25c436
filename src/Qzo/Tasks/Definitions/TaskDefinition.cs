using System.Text.Json.Nodes;

namespace Qzo.Tasks.Definitions;

public enum TaskKind
{
    /// <summary>One candidate per label, the template followed by the label's verbalizer (SST-2, RTE, ...).</summary>
    Classification,
    /// <summary>Candidates taken from the row (COPA's two choices, ReCoRD's entities).</summary>
    MultipleChoice,
    /// <summary>Free text, greedily decoded and compared with the gold answers (SQuAD, DROP).</summary>
    Generation,
}

public enum TaskMetric { Accuracy, F1, ExactMatch }

/// <summary>What training minimizes on a classification or multiple-choice task.</summary>
public enum TrainObjective
{
    /// <summary>Cross-entropy over the candidates' mean log-probabilities (MeZO's --train_as_classification).</summary>
    Candidates,
    /// <summary>The language-modelling loss of the correct candidate's tokens only (MeZO for COPA and ReCoRD).</summary>
    Answer,
}

/// <summary>Training settings a task suggests for one method; flags override them.</summary>
public sealed record MethodDefaults(float LearningRate, float Epsilon, int Steps, int BatchSize, float? Clip, int EvalEvery);

/// <summary>MeZO's sample sizes (docs/algorithm.md §10).</summary>
public sealed record SamplingDefaults(int Train, int Dev, int Eval);

/// <summary>
/// A task, declared in a small YAML or JSON file (built-in ones under src/Qzo/Tasks/BuiltIn): where its data comes
/// from, the columns it needs, the prompt template, the candidates or answers, the metric and the paper's settings.
/// </summary>
public sealed record TaskDefinition
{
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    /// <summary>The dataset it was written for, e.g. "super_glue/rte" (documentation; data comes from --data).</summary>
    public string Dataset { get; init; } = "";
    public required TaskKind Kind { get; init; }
    public required TaskMetric Metric { get; init; }
    /// <summary>Columns every row must have, dotted path → type (string, int, bool, float, string[], int[]).</summary>
    public IReadOnlyDictionary<string, string> Columns { get; init; } = new Dictionary<string, string>();
    public required PromptTemplate Template { get; init; }

    /// <summary>
    /// Classification: the label column (the first of these a file has), the verbalizer of each label value in candidate order.
    /// </summary>
    public IReadOnlyList<string> LabelColumns { get; init; } = [];
    public IReadOnlyList<KeyValuePair<string, string>> Verbalizers { get; init; } = [];
    /// <summary>Other spellings of label values, e.g. BoolQ's "true" → "1".</summary>
    public IReadOnlyDictionary<string, string> LabelAliases { get; init; } = new Dictionary<string, string>();

    /// <summary>Multiple choice: candidate fields (["choice1", "choice2"]) or one list column (["entities"]).</summary>
    public IReadOnlyList<string> CandidateColumns { get; init; } = [];
    /// <summary>How a candidate is written after the prompt; default " {candidate}".</summary>
    public PromptTemplate? CandidateTemplate { get; init; }
    /// <summary>Multiple choice: the correct candidates are the label's index, or the texts in this list column.</summary>
    public string? AnswersColumn { get; init; }

    /// <summary>Generation: the training target after the prompt, with {answer} = the first gold answer.</summary>
    public PromptTemplate? Target { get; init; }
    public IReadOnlyList<string> StopStrings { get; init; } = ["\n"];
    public int MaxNewTokens { get; init; } = 50;

    public TrainObjective TrainObjective { get; init; } = TrainObjective.Candidates;
    public string DemonstrationSeparator { get; init; } = "\n\n";
    public SamplingDefaults Sampling { get; init; } = new(1000, 500, 1000);
    public IReadOnlyDictionary<string, MethodDefaults> Hyperparameters { get; init; } = new Dictionary<string, MethodDefaults>();
    public string HyperparameterNote { get; init; } = "";

    /// <summary>The definition as read, for config.json.</summary>
    public required JsonObject Source { get; init; }
    /// <summary>"built-in" or the file it came from.</summary>
    public string Origin { get; init; } = "built-in";

    public string MetricName => Metric switch { TaskMetric.Accuracy => "accuracy", TaskMetric.F1 => "f1", _ => "em" };
    public string KindName => Kind switch { TaskKind.Classification => "classification", TaskKind.MultipleChoice => "multiple_choice",
        _ => "generation" };
}
