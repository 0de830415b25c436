using Qzo.Compute;

namespace Qzo.Cli.Runs;

/// <summary>
/// The device's peak memory of training apart from that of the sample renders in between (which load the VAE for a
/// moment): each stage's peaks are read and then reset, and the breakdown of the stage with the larger total is kept.
/// </summary>
sealed class StagePeaks(MemoryTracker memory)
{
    public IReadOnlyDictionary<string, long> Training { get; private set; } = new Dictionary<string, long>();
    public IReadOnlyDictionary<string, long> Sampling { get; private set; } = new Dictionary<string, long>();

    public void EndTraining() => Training = End(Training);
    public void EndSampling() => Sampling = End(Sampling);

    IReadOnlyDictionary<string, long> End(IReadOnlyDictionary<string, long> kept)
    {
        var now = memory.PeakBreakdown();
        memory.ResetPeaks();
        return now["Total"] > kept.GetValueOrDefault("Total") ? now : kept;
    }
}
