namespace Qzo.Distributed;

/// <summary>
/// A rank's share of a list: contiguous and in order, sizes differing by at most one, so the ranks' shares, taken in
/// rank order, are the list exactly once.
/// </summary>
public static class RankShard
{
    public static (int Start, int Count) Range(int count, int rank, int worldSize)
    {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank),
            $"rank {rank} of {worldSize}");
        int start = (int)((long)count * rank / worldSize), end = (int)((long)count * (rank + 1) / worldSize);
        return (start, end - start);
    }

    public static IReadOnlyList<T> Of<T>(IReadOnlyList<T> items, int rank, int worldSize)
    {
        var (start, count) = Range(items.Count, rank, worldSize);
        var share = new T[count];
        for (int i = 0; i < count; i++) share[i] = items[start + i];
        return share;
    }
}
