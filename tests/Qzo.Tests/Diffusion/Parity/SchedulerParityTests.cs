using Qzo.Diffusion.Schedulers;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// FlowMatchEulerDiscreteScheduler(shift=3.0) against diffusers v0.39.0 (tests/fixtures/sd3/scheduler), bit for bit: the
/// training table right after __init__ (sigmas and timesteps, 1000 each) and the schedules set_timesteps gives for 28
/// steps (SD3.5's default) and 4, with the appended σ = 0.
/// </summary>
public class SchedulerParityTests(ITestOutputHelper output)
{
    [Fact]
    public void TablesAndSchedulesAreDiffusersBitForBit()
    {
        using var c = Sd3ParityCase.Open("scheduler");
        var config = FlowMatchEulerConfig.Read(Path.Combine(c.Model, "scheduler_config.json"));
        Assert.Equal(3.0, config.Shift);
        var scheduler = new FlowMatchEulerScheduler(config);
        c.Check("sigmas_train", scheduler.TrainingSigmas(), output, tolerance: 0);
        c.Check("timesteps_train", scheduler.TrainingTimesteps(), output, tolerance: 0);
        foreach (int steps in new[] { 28, 4 })
        {
            var sigmas = scheduler.Sigmas(steps);
            c.Check($"sigmas_{steps}", sigmas, output, tolerance: 0);
            c.Check($"timesteps_{steps}", scheduler.Timesteps(sigmas), output, tolerance: 0);
        }
    }
}
