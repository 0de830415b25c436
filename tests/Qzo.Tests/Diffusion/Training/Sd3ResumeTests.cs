using System.Text.RegularExpressions;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Training;
using Qzo.Training;

namespace Qzo.Tests.Diffusion.Training;

/// <summary>A text-to-image run resumed from its step-3 checkpoint repeats the uninterrupted run bit for bit.</summary>
public sealed class Sd3ResumeTests(TinyNf4Sd3 tiny) : IClassFixture<TinyNf4Sd3>
{
    [Fact]
    public void AResumedRunRepeatsTheUninterruptedOne()
    {
        using var folder = new TempFolder();
        var settings = new Sd3FinetuneSettings
        {
            Optimizer = new ZoOptions { Steps = 6, BatchSize = 3, LearningRate = 5e-3f, EvalEvery = 3, Seed = 9 }, ValidationLimit = 4,
            KeepBest = true,
        };
        var saved = new List<RunState>();
        TrainingSummary full;
        float[][] fullValues;
        using (var backend = new CpuBackend())
        using (var run = Sd3FineTuning.Open(tiny.Pipeline, settings, backend))
        using (var metrics = new MetricsWriter(folder["full.jsonl"]))
        {
            var checkpointing = new RunCheckpointing(3, s =>
            {
                RunCheckpoint.Save(folder[$"state{s.Step}.safetensors"], s, run.Trainable);
                saved.Add(s);
            });
            full = run.Loop(tiny.Train, tiny.Validation, metrics, checkpointing).Run();
            fullValues = run.Trainable.Snapshot();
        }
        Assert.Equal([3, 6], saved.Select(s => s.Step));

        File.Copy(folder["full.jsonl"], folder["resumed.jsonl"]);
        using (var backend = new CpuBackend())
        using (var run = Sd3FineTuning.Open(tiny.Pipeline, settings, backend))
        {
            var state = RunCheckpoint.Load(folder["state3.safetensors"], run.Trainable);
            TrainingSummary resumed;
            using (var metrics = new MetricsWriter(folder["resumed.jsonl"], state.MetricsBytes))
                resumed = run.Loop(tiny.Train, tiny.Validation, metrics).Run(resume: state);
            Assert.Equal(full.History.Skip(3), resumed.History);
            Assert.Equal(full.Best, resumed.Best);
            Assert.Equal(fullValues, run.Trainable.Snapshot());
        }
        static IEnumerable<string> WithoutTimes(string path) =>
            File.ReadLines(path).Select(l => Regex.Replace(l, "\"elapsed_s\":[^,}]*", ""));
        Assert.Equal(WithoutTimes(folder["full.jsonl"]), WithoutTimes(folder["resumed.jsonl"]));
    }
}
