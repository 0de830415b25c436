using Qzo.Diffusion.Schedulers;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// FlowMatchEulerDiscreteScheduler(shift=3.0) from the saved scheduler_config.json: the training table and the sampling schedules
/// of 28 and 4 steps (sigmas with the appended 0, timesteps) against diffusers'. The scheduler runs on the host: no backend.
/// </summary>
public class SchedulerParityTests(ITestOutputHelper output)
{
    [Fact]
    public void MatchesDiffusers()
    {
        using var c = ParityCase.Open("scheduler", output);
        var scheduler = new FlowMatchEulerScheduler(FlowMatchEulerConfig.Read(Path.Combine(c.Model, "scheduler_config.json")));
        c.Check("sigmas_train", scheduler.TrainingSigmas());
        c.Check("timesteps_train", scheduler.TrainingTimesteps());
        foreach (int steps in new[] { 28, 4 })
        {
            var sigmas = scheduler.Sigmas(steps);
            c.Check($"sigmas_{steps}", sigmas);
            c.Check($"timesteps_{steps}", scheduler.Timesteps(sigmas));
        }
        c.RequireEveryOutputChecked();
    }
}
