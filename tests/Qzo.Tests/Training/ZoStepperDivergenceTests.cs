using Qzo.Training;

namespace Qzo.Tests.Training;

/// <summary>A loss that becomes non-finite: the error names the step and both losses, and tells divergence from a bad start.</summary>
public class ZoStepperDivergenceTests
{
    // The step throws before any update, so it never touches the model.
    static QzoException StepFails(int step, double plus, double minus) =>
        Assert.Throws<QzoException>(() => new ZoStepper(null!, new ZoOptions()).Step(step, p => p.Scale > 0 ? plus : minus));

    [Fact]
    public void DivergenceDuringTrainingNamesTheStepAndBothLossesAndKeepsTheHint()
    {
        var message = StepFails(3, double.NaN, 2.5).Message;
        Assert.StartsWith("step 3: ", message);
        Assert.Contains("L+ = NaN", message);
        Assert.Contains("L− = 2.5", message);
        Assert.Contains("lower --lr or enable DDC (--clip)", message);
    }

    [Fact]
    public void ANonFiniteLossBeforeAnyUpdateIsNotBlamedOnTheLearningRate()
    {
        var message = StepFails(0, double.PositiveInfinity, double.NaN).Message;
        Assert.StartsWith("step 0: the loss is not finite before any update", message);
        Assert.Contains("L+ = ∞", message.Replace("Infinity", "∞"));
        Assert.DoesNotContain("--lr", message);
    }
}
