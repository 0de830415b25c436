using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Tests.Models;
using Qzo.Training;

namespace Qzo.Tests.Training;

public class ResumeTests
{
    static List<Example> Examples() => Enumerable.Range(0, 10).Select(i =>
    {
        var ids = TinyModels.RandomIds(9, 320, 300 + i);
        return (Example)new SequenceExample(ids, Enumerable.Repeat(true, ids.Length).ToArray());
    }).ToList();

    [Fact]
    public void AResumedRunRepeatsTheUninterruptedOneBitForBit()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        var options = new ZoOptions { Steps = 9, BatchSize = 3, LearningRate = 2e-3f, EvalEvery = 3, Seed = 5 };
        var examples = Examples();

        var saved = new List<RunState>();
        TrainingSummary full;
        float[][] fullValues;
        using (var checkpoint = Checkpoint.Open(model))
        using (var backend = new CpuBackend())
        using (var loaded = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales))
        using (var metrics = new MetricsWriter(folder["full.jsonl"]))
        {
            var run = LanguageModelTraining.Loop(loaded, options, examples,
                () => Evaluator.Evaluate(loaded, examples.Take(4).ToList(), 4, 0),
                0, metrics,
                checkpointing: new RunCheckpointing(4, s =>
                {
                    RunCheckpoint.Save(folder[$"state{s.Step}.safetensors"], s, LanguageModelTraining.TrainableSet(loaded));
                    saved.Add(s);
                }));
            full = run.Run();
            fullValues = loaded.Trainable.Select(p => p.Download(backend)).ToArray();
        }
        Assert.Equal([4, 8, 9], saved.Select(s => s.Step));

        // A fresh process: the model from disk, the state from the step-4 checkpoint, metrics cut back to what it had seen.
        File.Copy(folder["full.jsonl"], folder["resumed.jsonl"]);
        using (var checkpoint = Checkpoint.Open(model))
        using (var backend = new CpuBackend())
        using (var loaded = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales))
        {
            var state = RunCheckpoint.Load(folder["state4.safetensors"], LanguageModelTraining.TrainableSet(loaded));
            Assert.Equal(saved[0].Values, state.Values);
            Assert.Equal(saved[0].BestValues, state.BestValues);
            TrainingSummary resumed;
            using (var metrics = new MetricsWriter(folder["resumed.jsonl"], state.MetricsBytes))
                resumed = LanguageModelTraining.Loop(loaded, options, examples,
                                                     () => Evaluator.Evaluate(loaded, examples.Take(4).ToList(), 4, 0), 0, metrics)
                    .Run(resume: state);
            Assert.Equal(full.History.Skip(4), resumed.History);
            Assert.Equal(full.BestStep, resumed.BestStep);
            Assert.Equal(full.Best, resumed.Best);
            Assert.Equal(fullValues, loaded.Trainable.Select(p => p.Download(backend)).ToArray());
        }
        static IEnumerable<string> WithoutTimes(string path) =>
            File.ReadLines(path).Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"elapsed_s\":[^,}]*", ""));
        Assert.Equal(WithoutTimes(folder["full.jsonl"]), WithoutTimes(folder["resumed.jsonl"]));
    }
}
