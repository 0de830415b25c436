using Qzo.Tests.Models;
using Qzo.Tests.Tasks;
using Qzo.Training;

namespace Qzo.Tests.Library;

/// <summary>The front door's task path and its checks, on a tiny synthesized model.</summary>
public class QzoModelTests
{
    [Fact]
    public void ATaskIsSampledTunedOnItsDevMetricAndScoredOnItsTest()
    {
        using var folder = new TempFolder();
        using var model = QzoModel.Load(TinyModels.Gptq(folder), ComputeDevice.Cpu);
        var sst2 = model.LoadTask("sst2", TaskFixtures.Jsonl("sst2"), numTrain: 12, numDev: 4, numEval: 6);
        Assert.Equal((12, 4, 6), (sst2.Train.Count, sst2.Dev.Count, sst2.Test.Count));
        var before = model.Evaluate(sst2);
        Assert.Equal("accuracy", before.Metric);
        Assert.Equal(6, before.Examples);

        var reports = new List<int>();
        var options = new ZoOptions { Steps = 4, BatchSize = 2, LearningRate = 1e-4f, EvalEvery = 2 };
        var run = model.FineTune(sst2, options, p => reports.Add(p.Step));
        Assert.Equal([0, 1, 2, 3, 4], reports);
        Assert.Equal("accuracy", run.Best!.Metric);
        Assert.Equal(4, run.Best.Examples);
        Assert.Contains(run.BestStep, new[] { 0, 2, 4 });
    }

    [Fact]
    public void OptionsForAnotherMethodThanTheLoadedOneAreRefusedInOneLine()
    {
        using var folder = new TempFolder();
        using var model = QzoModel.Load(TinyModels.Gptq(folder), ComputeDevice.Cpu);
        var data = folder["rows.jsonl"];
        File.WriteAllText(data, "{\"input_ids\": [1, 5, 9, 4]}\n");
        var e = Assert.Throws<QzoException>(() => model.FineTune(model.ReadExamples(data), new ZoOptions { Method = ZoMethod.Mezo }));
        Assert.Contains("QzoModel.Load", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
