namespace Qzo.Models;

/// <summary>
/// Sequences padded to one length T (<see cref="Pad"/> pads on the right, <see cref="PadLeft"/> on the left; the
/// attention mask marks the real tokens wherever they are). Labels hold the token each position should be
/// scored on, or <see cref="Ignore"/>; as in transformers, position t predicts labels[t+1].
/// </summary>
public sealed class TokenBatch
{
    public const int Ignore = -100;

    public required int Batch { get; init; }
    public required int Seq { get; init; }
    public required int[] Ids { get; init; }
    public required int[] AttentionMask { get; init; }
    public required int[] Labels { get; init; }

    /// <param name="sequences">token ids and, per token, whether it is scored (a target).</param>
    /// <param name="atLeast">pad to at least this length: a share of a batch padded as the whole batch is.</param>
    public static TokenBatch Pad(IReadOnlyList<(int[] Ids, bool[] Scored)> sequences, int padId, int multipleOf = 1, int atLeast = 0)
    {
        if (sequences.Count == 0) throw new ArgumentException("empty batch");
        int longest = Math.Max(sequences.Max(s => s.Ids.Length), atLeast);
        int seq = (longest + multipleOf - 1) / multipleOf * multipleOf;
        int n = sequences.Count * seq;
        var ids = new int[n]; var mask = new int[n]; var labels = new int[n];
        Array.Fill(ids, padId);
        Array.Fill(labels, Ignore);
        for (int b = 0; b < sequences.Count; b++)
        {
            var (tokens, scored) = sequences[b];
            for (int t = 0; t < tokens.Length; t++)
            {
                ids[b * seq + t] = tokens[t];
                mask[b * seq + t] = 1;
                if (scored[t]) labels[b * seq + t] = tokens[t];
            }
        }
        return new TokenBatch { Batch = sequences.Count, Seq = seq, Ids = ids, AttentionMask = mask, Labels = labels };
    }

    /// <summary>Sequences padded on the left to the longest, nothing scored: prompts for generation, whose last tokens line up.</summary>
    public static TokenBatch PadLeft(IReadOnlyList<int[]> sequences, int padId)
    {
        if (sequences.Count == 0) throw new ArgumentException("empty batch");
        int seq = sequences.Max(s => s.Length), n = sequences.Count * seq;
        var ids = new int[n]; var mask = new int[n]; var labels = new int[n];
        Array.Fill(ids, padId);
        Array.Fill(labels, Ignore);
        for (int b = 0; b < sequences.Count; b++)
        {
            int first = b * seq + seq - sequences[b].Length;
            sequences[b].CopyTo(ids, first);
            mask.AsSpan(first, sequences[b].Length).Fill(1);
        }
        return new TokenBatch { Batch = sequences.Count, Seq = seq, Ids = ids, AttentionMask = mask, Labels = labels };
    }

    /// <summary>Sequences [first, first + count) of this batch, padded as they are here.</summary>
    public TokenBatch Rows(int first, int count)
    {
        if (first < 0 || count < 1 || first + count > Batch) throw new ArgumentOutOfRangeException(nameof(first),
            $"rows {first}..{first + count - 1} of a batch of {Batch}");
        int start = first * Seq, length = count * Seq;
        return new TokenBatch
        {
            Batch = count, Seq = Seq, Ids = Ids[start..(start + length)], AttentionMask = AttentionMask[start..(start + length)],
            Labels = Labels[start..(start + length)],
        };
    }

    /// <summary>targets[b, t] = labels[b, t+1]; the last position of each row predicts nothing.</summary>
    public int[] ShiftedTargets()
    {
        var targets = new int[Batch * Seq];
        for (int b = 0; b < Batch; b++)
            for (int t = 0; t < Seq; t++)
                targets[b * Seq + t] = t + 1 < Seq ? Labels[b * Seq + t + 1] : Ignore;
        return targets;
    }

    public int Length(int b)
    {
        int n = 0;
        for (int t = 0; t < Seq; t++) n += AttentionMask[b * Seq + t];
        return n;
    }
}
