namespace Qzo.Text;

internal readonly record struct MergeRule(int Rank, int NewId);

/// <summary>
/// HF tokenizers' Word::merge_all: repeatedly merge the adjacent pair with the lowest rank, leftmost first on ties,
/// using a heap of candidate merges. A popped candidate is applied if the pair now at its position still produces
/// the same token (HF checks the new id, not the rank; kept identical so results match HF in every case).
/// </summary>
internal static class BpeMerger
{
    public static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>Merges <paramref name="symbols"/> and appends the resulting ids to <paramref name="output"/>.</summary>
    public static void MergeAll(ReadOnlySpan<int> symbols, Dictionary<long, MergeRule> merges, List<int> output)
    {
        int n = symbols.Length;
        if (n < 2)
        {
            output.AddRange(symbols);
            return;
        }
        var scratch = t_scratch ??= new Scratch();
        scratch.Reserve(n);
        var (c, prev, next, alive, queue) = (scratch.Symbols, scratch.Prev, scratch.Next, scratch.Alive, scratch.Queue);
        queue.Clear();
        symbols.CopyTo(c);
        for (int i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            alive[i] = true;
            if (i + 1 < n && merges.TryGetValue(Key(c[i], c[i + 1]), out var m)) queue.Enqueue((i, m.NewId), Priority(m.Rank, i));
        }

        while (queue.TryDequeue(out var top, out _))
        {
            int pos = top.Pos;
            if (!alive[pos]) continue;
            int right = next[pos];
            if (right < 0) continue;
            if (!merges.TryGetValue(Key(c[pos], c[right]), out var current) || current.NewId != top.NewId) continue;

            c[pos] = top.NewId;
            alive[right] = false;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;

            if (prev[pos] >= 0 && merges.TryGetValue(Key(c[prev[pos]], c[pos]), out var left))
                queue.Enqueue((prev[pos], left.NewId), Priority(left.Rank, prev[pos]));
            if (next[pos] >= 0 && merges.TryGetValue(Key(c[pos], c[next[pos]]), out var after))
                queue.Enqueue((pos, after.NewId), Priority(after.Rank, pos));
        }

        for (int i = 0; i < n; i++) if (alive[i]) output.Add(c[i]);
    }

    static long Priority(int rank, int pos) => ((long)rank << 32) | (uint)pos;

    /// <summary>Per-thread working arrays, reused across calls (encoding text is mostly many short runs).</summary>
    [ThreadStatic] static Scratch? t_scratch;

    sealed class Scratch
    {
        public int[] Symbols = [], Prev = [], Next = [];
        public bool[] Alive = [];
        public readonly PriorityQueue<(int Pos, int NewId), long> Queue = new();

        public void Reserve(int n)
        {
            if (Symbols.Length >= n) return;
            int size = Math.Max(n, 2 * Symbols.Length);
            (Symbols, Prev, Next, Alive) = (new int[size], new int[size], new int[size], new bool[size]);
        }
    }
}
