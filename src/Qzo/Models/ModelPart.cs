namespace Qzo.Models;

/// <summary>
/// The part of a decoder a model holds: decoder layers [<see cref="FirstLayer"/>, <see cref="EndLayer"/>), the token
/// embedding (the input end) and the final norm with lm_head (the output end). A model on one device holds it all; a
/// pipeline rank holds a contiguous share of the layers, the first rank the input end, the last the output end
/// (docs/distributed.md §Pipeline).
/// </summary>
public sealed record ModelPart(int FirstLayer, int LayerCount, bool HoldsEmbedding, bool HoldsHead)
{
    public int EndLayer => FirstLayer + LayerCount;

    public static ModelPart Whole(int layers) => new(0, layers, HoldsEmbedding: true, HoldsHead: true);

    /// <summary>Whether the embedding table is loaded: for the input, or as the output end's tied lm_head.</summary>
    public bool LoadsEmbedding(bool tiedHead) => HoldsEmbedding || HoldsHead && tiedHead;

    /// <summary>
    /// Rank <paramref name="rank"/>'s part of <paramref name="layers"/> decoder layers split over <paramref name="ranks"/>:
    /// contiguous, in rank order, counts differing by at most one with the larger counts first (the last rank also runs
    /// the final norm, lm_head and the loss).
    /// </summary>
    public static ModelPart OfRank(int layers, int rank, int ranks)
    {
        if (ranks < 1 || rank < 0 || rank >= ranks) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {ranks}");
        if (ranks > layers) throw new QzoException(
            $"a pipeline of {ranks} ranks needs at least {ranks} decoder layers (one a rank); the model has {layers}");
        int share = layers / ranks, extra = layers % ranks;
        int first = rank * share + Math.Min(rank, extra);
        return new ModelPart(first, share + (rank < extra ? 1 : 0), HoldsEmbedding: rank == 0, HoldsHead: rank == ranks - 1);
    }

    public override string ToString() =>
        $"layers {FirstLayer}..{EndLayer - 1}{(HoldsEmbedding ? ", the embedding" : "")}" +
        $"{(HoldsHead ? ", the final norm and lm_head" : "")}";
}
