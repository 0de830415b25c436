using Qzo.Training;

namespace Qzo.Tests.Training;

/// <summary>The training core on a quadratic, with no model, tokens or data files: it learns, and it resumes exactly.</summary>
public class FineTuneLoopTests
{
    static readonly float[][] Target = [[1f, -2f, 0.5f, 3f], [0.75f, 1.5f]];
    static readonly IReadOnlyList<double> Shifts = [-0.1, 0.05, 0.0, 0.1, -0.05, 0.02];

    static (HostTrainableSet Set, QuadraticObjective Objective) Fresh()
    {
        var set = new HostTrainableSet([new float[4], [0.5f, 0.5f]], [false, true]);
        return (set, new QuadraticObjective(set, Target));
    }

    static ZoOptions Options(int steps) => new()
    {
        Steps = steps, BatchSize = 2, LearningRate = 0.01f, Epsilon = 1e-3f, ClipThreshold = 4f, ScaleFloor = 0.6f,
        EvalEvery = 25, Seed = 9,
    };

    [Fact]
    public void ZoSgdWithClippingDrivesAQuadraticDownAndKeepsTheFloor()
    {
        var (set, objective) = Fresh();
        using var metrics = new MetricsWriter(null);
        var summary = new FineTuneLoop<double>(objective, set, Options(400), Shifts, objective.Evaluate, metrics).Run();

        Assert.True(summary.Best!.Loss < 0.05 * summary.Before!.Loss, $"loss {summary.Before.Loss} → {summary.Best.Loss}");
        Assert.Contains(summary.History, r => r.DClipped != r.D);
        Assert.All(summary.History, r => Assert.InRange(r.DClipped, -4.0, 4.0));
        Assert.All(set.Values[1], v => Assert.True(v >= 0.6f));
        Assert.Equal(summary.Best.Loss, objective.Evaluate().Loss); // the kept state is the one in the set
    }

    [Fact]
    public void AResumedRunRepeatsTheUninterruptedOneBitForBit()
    {
        using var folder = new TempFolder();
        var saved = new List<RunState>();
        var (set, objective) = Fresh();
        TrainingSummary full;
        using (var metrics = new MetricsWriter(folder["full.jsonl"]))
        {
            var checkpointing = new RunCheckpointing(20, s =>
            {
                RunCheckpoint.Save(folder[$"state{s.Step}.safetensors"], s, set);
                saved.Add(s);
            });
            full = new FineTuneLoop<double>(objective, set, Options(70), Shifts, objective.Evaluate, metrics, checkpointing: checkpointing)
                .Run();
        }
        Assert.Equal([20, 40, 60, 70], saved.Select(s => s.Step));

        File.Copy(folder["full.jsonl"], folder["resumed.jsonl"]);
        var (again, againObjective) = Fresh();
        var state = RunCheckpoint.Load(folder["state40.safetensors"], again);
        Assert.Equal(saved[1].Values, state.Values);
        TrainingSummary resumed;
        using (var metrics = new MetricsWriter(folder["resumed.jsonl"], state.MetricsBytes))
            resumed = new FineTuneLoop<double>(againObjective, again, Options(70), Shifts, againObjective.Evaluate, metrics)
                .Run(resume: state);

        Assert.Equal(full.History.Skip(40), resumed.History);
        Assert.Equal((full.Best, full.BestStep), (resumed.Best, resumed.BestStep));
        Assert.Equal(set.Values, again.Values);
        static IEnumerable<string> WithoutTimes(string path) =>
            File.ReadLines(path).Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"elapsed_s\":[^,}]*", ""));
        Assert.Equal(WithoutTimes(folder["full.jsonl"]), WithoutTimes(folder["resumed.jsonl"]));
    }

    [Fact]
    public void ARunResumesOnlyFromAStateWithinItsSteps()
    {
        using var folder = new TempFolder();
        var (set, objective) = Fresh();
        Assert.Null(RunCheckpoint.LoadToResume(folder["state.safetensors"], set, steps: 10));
        using (var metrics = new MetricsWriter(null))
            new FineTuneLoop<double>(objective, set, Options(6), Shifts, objective.Evaluate, metrics,
                                     checkpointing: RunCheckpointing.ToFile(folder["state.safetensors"], 0, set)).Run();
        Assert.Equal(6, RunCheckpoint.LoadToResume(folder["state.safetensors"], set, steps: 6)!.Step);
        var error = Assert.Throws<QzoException>(() => RunCheckpoint.LoadToResume(folder["state.safetensors"], set, steps: 5));
        Assert.EndsWith("the run state is at step 6, past the run's 5 steps", error.Message);
    }
}
