namespace Qzo.Numerics;

/// <summary>SplitMix64 finalizer (Steele et al. 2014): turns run seed + step into a well-mixed step seed.</summary>
public static class SplitMix64
{
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>docs/algorithm.md §6: seed_t = SplitMix64(runSeed + t_step).</summary>
    public static ulong StepSeed(ulong runSeed, long step) => Mix(runSeed + (ulong)step);
}
