namespace Qzo.Quantization.Bnb;

/// <summary>
/// The blocks of a flattened tensor in chunks of whole blocks, worked on in parallel: each chunk writes only its own
/// blocks (and, the block size being even, only its own packed bytes), so the result does not depend on the scheduling.
/// </summary>
static class BlockRanges
{
    /// <summary>
    /// Fills values [start, end) of a weight just before a chunk works on them, so a weight read from its file is
    /// converted into the cache the chunk then reads it from.
    /// </summary>
    public delegate void Fill(int start, int end);

    /// <summary>About this many values per chunk: small enough to balance cores, large enough to amortize a task.</summary>
    const int ChunkValues = 1 << 16;

    public static int Count(long length, int blockSize) => (int)((length + blockSize - 1) / blockSize);

    /// <summary>
    /// Runs <paramref name="chunk"/>(first block, end block) over every chunk; a chunk returns the first of its blocks
    /// that failed, or −1. Returns the first failed block of all (chunks after it may be skipped), or the block count.
    /// </summary>
    public static int ForEach(long length, int blockSize, Func<int, int, int> chunk)
    {
        int blocks = Count(length, blockSize), perChunk = Math.Max(1, ChunkValues / blockSize);
        int chunks = (blocks + perChunk - 1) / perChunk, firstFailed = blocks;
        void Run(int c)
        {
            int first = c * perChunk;
            if (first >= Volatile.Read(ref firstFailed)) return;
            int failed = chunk(first, Math.Min(blocks, first + perChunk));
            for (int seen = Volatile.Read(ref firstFailed); failed >= 0 && failed < seen;
                 seen = Volatile.Read(ref firstFailed))
                if (Interlocked.CompareExchange(ref firstFailed, failed, seen) == seen) break;
        }
        if (chunks <= 1) Run(0);
        else Parallel.For(0, chunks, Run);
        return firstFailed;
    }
}
