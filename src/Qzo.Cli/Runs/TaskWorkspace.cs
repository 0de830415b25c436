using System.Text.Json.Nodes;
using Qzo.Cli.Commands;
using Qzo.Compute;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Tasks;

namespace Qzo.Cli.Runs;

/// <summary>A task run's model, data and evaluator, opened from its settings.</summary>
sealed class TaskWorkspace : IDisposable
{
    TaskWorkspace(TaskRunSettings settings, ModelSession session, JsonObject files, TaskEncoder encoder,
                  IReadOnlyList<TaskItem> train, IReadOnlyList<TaskItem> dev, IReadOnlyList<TaskItem> test)
    {
        Settings = settings; Session = session; Files = files; Encoder = encoder; Train = train; Dev = dev; Test = test;
        Evaluator = new TaskEvaluator(session.Model, session.Tokenizer, encoder, settings.EvalBatchSize, session.PadId)
            { MaxNewTokens = settings.MaxNewTokens };
    }

    public TaskRunSettings Settings { get; }
    public ModelSession Session { get; }
    public JsonObject Files { get; }
    public TaskEncoder Encoder { get; }
    public IReadOnlyList<TaskItem> Train { get; }
    public IReadOnlyList<TaskItem> Dev { get; }
    public IReadOnlyList<TaskItem> Test { get; }
    public TaskEvaluator Evaluator { get; }

    public static TaskWorkspace Open(TaskRunSettings s, IBackend backend, TrainingScope scope, bool quiet)
    {
        var (splits, files) = s.Data.Load();
        var session = Show(quiet, $"loading {Path.GetFileName(s.Model)}",
            report => ModelSession.Open(s.Model, backend, scope, new Progress<double>(f => report(f, null))));
        try
        {
            var encoder = new TaskEncoder(s.Task, session.Tokenizer, s.MaxLength);
            return new TaskWorkspace(s, session, files, encoder, encoder.Items(splits.Train), encoder.Items(splits.Dev),
                encoder.Items(splits.Test));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>What config.json records beside the settings: the data files and sizes, the model, the backend.</summary>
    public JsonObject Facts(IBackend backend) => new()
    {
        ["files"] = Files.DeepClone(),
        ["examples"] = new JsonObject { ["train"] = Train.Count, ["dev"] = Dev.Count, ["test"] = Test.Count },
        ["model_description"] = Describe(Session.Checkpoint),
        ["backend"] = backend.Name,
        ["started_utc"] = DateTime.UtcNow.ToString("O"),
    };

    public static string Describe(Checkpoint checkpoint)
    {
        string architecture = checkpoint.Config.Architecture.Name.ToLowerInvariant();
        if (checkpoint.Gptq is { } g) return $"{architecture}, GPTQ {g.Bits}-bit g{g.GroupSize}";
        var dtype = checkpoint.Tensors.Names.Select(n => checkpoint.Tensors.Get(n).DType).GroupBy(d => d).OrderByDescending(g => g.Count())
            .First().Key;
        return $"{architecture}, {dtype.Name()}";
    }

    public static T Show<T>(bool quiet, string description, Func<Action<double, string?>, T> work) =>
        quiet ? work((_, _) => { }) : ProgressDisplay.Run(description, work);

    public void Dispose() => Session.Dispose();
}
