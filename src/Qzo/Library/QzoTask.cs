using Qzo.Tasks;
using Qzo.Tasks.Data;
using Qzo.Tasks.Definitions;

namespace Qzo;

/// <summary>
/// A task (built-in name such as "sst2", or a task YAML file) with its data, encoded for one <see cref="QzoModel"/>:
/// the train sample it fine-tunes on, the dev sample that picks the kept state, and the test sample it reports.
/// Made by <see cref="QzoModel.LoadTask"/>.
/// </summary>
public sealed class QzoTask
{
    internal QzoTask(TaskDefinition definition, TaskEncoder encoder, TaskEvaluator evaluator, TaskSplits splits)
    {
        Definition = definition;
        Encoder = encoder;
        Evaluator = evaluator;
        Train = encoder.Items(splits.Train);
        Dev = encoder.Items(splits.Dev);
        Test = encoder.Items(splits.Test);
    }

    /// <summary>The task's name, kind, prompt template and metric.</summary>
    public TaskDefinition Definition { get; }
    /// <summary>What fine-tuning draws its batches from.</summary>
    public IReadOnlyList<TaskItem> Train { get; }
    /// <summary>What is evaluated during fine-tuning to keep the best state; may be empty.</summary>
    public IReadOnlyList<TaskItem> Dev { get; }
    /// <summary>What <see cref="QzoModel.Evaluate(QzoTask)"/> scores.</summary>
    public IReadOnlyList<TaskItem> Test { get; }
    internal TaskEncoder Encoder { get; }
    internal TaskEvaluator Evaluator { get; }
}
