using System.Text.Json.Nodes;
using Qzo.Diffusion.Schedulers;
using Qzo.Models;

namespace Qzo.Tests.Diffusion;

public class FlowMatchEulerSchedulerTests
{
    static FlowMatchEulerConfig Parse(string json) =>
        FlowMatchEulerConfig.Parse(new JsonConfigReader(JsonNode.Parse(json)!.AsObject(), "scheduler_config.json"));

    static readonly FlowMatchEulerConfig Sd35 = Parse("""
        {"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 3.0,
         "use_dynamic_shifting": false, "base_shift": 0.5, "max_shift": 1.15, "base_image_seq_len": 256, "max_image_seq_len": 4096}
        """);

    [Fact]
    public void Sd35ScheduleIsShiftedTwiceAndEndsAtZero()
    {
        var scheduler = new FlowMatchEulerScheduler(Sd35);
        var table = scheduler.TrainingSigmas();
        Assert.Equal(1000, table.Length);
        Assert.Equal(1f, table[0]);
        // 3·0.001 / (1 + 2·0.001): the smallest training sigma
        Assert.Equal(0.003 / 1.002, table[^1], 1e-7);

        var sigmas = scheduler.Sigmas(28);
        Assert.Equal(29, sigmas.Length);
        Assert.Equal(1f, sigmas[0]);
        Assert.Equal(0f, sigmas[^1]);
        double min = 0.003 / 1.002, twice = 3 * min / (1 + 2 * min); // the last step's sigma is shifted a second time
        Assert.Equal(twice, sigmas[27], 1e-7);
        for (int i = 1; i < sigmas.Length; i++) Assert.True(sigmas[i] < sigmas[i - 1], $"sigma {i} does not decrease");
        // The middle step: t = 1000 + (min·1000 − 1000)·(13/27) before the second shift.
        double t = 1000 + (min * 1000 - 1000) * 13 / 27, sigma = t / 1000;
        Assert.Equal((float)(3 * sigma / (1 + 2 * sigma)), sigmas[13]);
        Assert.Equal(sigmas[13] * 1000f, scheduler.Timesteps(sigmas)[13]);
    }

    [Fact]
    public void DynamicShiftingFollowsTheImageLength()
    {
        var config = Parse("""{"shift": 1.0, "use_dynamic_shifting": true}""");
        var scheduler = new FlowMatchEulerScheduler(config);
        Assert.Equal(0.5, scheduler.Mu(256), 12);
        Assert.Equal(1.15, scheduler.Mu(4096), 12);
        var sigmas = scheduler.Sigmas(4, imageSeqLen: 4096);
        double mu = 1.15, sigma = (1000 + (1 - 1000) / 3.0) / 1000; // the second step before shifting
        Assert.Equal((float)(Math.Exp(mu) / (Math.Exp(mu) + (1 / sigma - 1))), sigmas[1]);
    }

    [Theory]
    [InlineData("""{"use_karras_sigmas": true}""", "use_karras_sigmas")]
    [InlineData("""{"stochastic_sampling": true}""", "stochastic_sampling")]
    [InlineData("""{"_class_name": "DDPMScheduler"}""", "DDPMScheduler")]
    [InlineData("""{"shift": 0}""", "'shift' must be positive")]
    [InlineData("""{"time_shift_type": "cosine"}""", "time_shift_type")]
    public void UnsupportedOptionsAreRefusedByName(string json, string expected)
    {
        var error = Assert.Throws<QzoException>(() => Parse(json));
        Assert.Contains(expected, error.Message);
        Assert.Contains("scheduler_config.json", error.Message);
    }
}
