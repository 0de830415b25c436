using Qzo.Cli.Commands;

namespace Qzo.Tests.Cli;

public class DemoTests
{
    /// <summary>
    /// A shortened demo (fewer steps and sequences than `qzo demo`): QZO must lower the held-out loss and
    /// end below the random-sign control, which takes the same steps along the same directions.
    /// </summary>
    [Fact]
    public void QzoBeatsTheRandomSignControlOnHeldOutData()
    {
        var outcome = DemoRunner.Run(new DemoRunner.Settings
        {
            Steps = 400, TrainSequences = 96, ValidationSequences = 32, TestSequences = 64, Quiet = true,
        });
        Assert.True(outcome.TeacherLoss < outcome.Before,
            $"quantization should hurt: teacher {outcome.TeacherLoss}, student {outcome.Before}");
        Assert.True(outcome.AfterQzo < outcome.Before - 0.02, $"QZO: {outcome.Before} -> {outcome.AfterQzo}");
        Assert.True(outcome.AfterQzo < outcome.AfterControl!.Value - 0.02, $"QZO {outcome.AfterQzo} vs control {outcome.AfterControl}");
    }
}
