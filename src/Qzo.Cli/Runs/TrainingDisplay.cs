using Qzo.Training;

namespace Qzo.Cli.Runs;

/// <summary>A fine-tuning loop behind the "training" progress bar, showing the last step's two losses.</summary>
static class TrainingDisplay
{
    public static TrainingSummary Run<TExample>(bool quiet, FineTuneLoop<TExample> loop, RunState? resume = null) =>
        TaskWorkspace.Show(quiet, "training", report => loop.Run(new Progress<TrainingProgress>(p =>
            report((double)p.Step / Math.Max(p.Steps, 1),
                   p.LastStep is null ? null : $"step {p.Step}/{p.Steps} L+ {p.LastStep.LossPlus:F4} L- {p.LastStep.LossMinus:F4}")),
            resume: resume));
}
