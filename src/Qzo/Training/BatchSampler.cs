using Qzo.Numerics;

namespace Qzo.Training;

/// <summary>
/// The examples of step t: consecutive slices of a stream of epoch permutations, each permutation a
/// Fisher–Yates shuffle driven by SplitMix64(seed, epoch). A pure function of (seed, step), so a resumed
/// or replayed run sees the same batches.
/// </summary>
public sealed class BatchSampler(int exampleCount, int batchSize, ulong seed)
{
    readonly Dictionary<long, int[]> _permutations = new();

    public int[] IndicesForStep(int step)
    {
        var indices = new int[batchSize];
        for (int k = 0; k < batchSize; k++)
        {
            long position = (long)step * batchSize + k;
            long epoch = position / exampleCount;
            indices[k] = Permutation(epoch)[(int)(position % exampleCount)];
        }
        return indices;
    }

    int[] Permutation(long epoch)
    {
        if (_permutations.TryGetValue(epoch, out var cached)) return cached;
        if (_permutations.Count > 4) _permutations.Clear();
        var p = Enumerable.Range(0, exampleCount).ToArray();
        ulong state = SplitMix64.Mix(seed ^ 0xBA7C_4000_0000_0000UL ^ (ulong)epoch);
        for (int i = p.Length - 1; i > 0; i--)
        {
            state = SplitMix64.Mix(state);
            int j = (int)(state % (ulong)(i + 1));
            (p[i], p[j]) = (p[j], p[i]);
        }
        return _permutations[epoch] = p;
    }
}
