using Qzo.Numerics;

namespace Qzo.Diffusion.Data;

/// <summary>The examples a run trains on and the held-out ones it measures validation loss on.</summary>
public sealed record ImageCaptionSplit(IReadOnlyList<ImageCaptionEntry> Train, IReadOnlyList<ImageCaptionEntry> Validation)
{
    /// <summary>
    /// Holds out ⌈fraction · n⌉ examples (the paper's styles split is 8:2): the first of numpy's permutation with
    /// <paramref name="seed"/> (np.random.seed(seed); np.random.permutation(n)), so the same data, fraction and seed
    /// always hold out the same examples. Both parts keep the dataset's order.
    /// </summary>
    public static ImageCaptionSplit ByFraction(IReadOnlyList<ImageCaptionEntry> entries, double fraction, uint seed)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new QzoException($"--validation-fraction must be in [0, 1), got {fraction}");
        int held = (int)Math.Ceiling(fraction * entries.Count - 1e-9);
        if (held >= entries.Count)
            throw new QzoException($"--validation-fraction {fraction} of {entries.Count} example(s) leaves none to train on");
        var validation = MersenneTwister.NumpyPermutation(entries.Count, seed).Take(held).ToHashSet();
        return new ImageCaptionSplit(entries.Where((_, i) => !validation.Contains(i)).ToList(),
                                     entries.Where((_, i) => validation.Contains(i)).ToList());
    }
}
