using Qzo.Numerics;

namespace Qzo.Tasks.Data;

/// <summary>The rows a run trains on, selects its checkpoint on (dev), and reports (test).</summary>
public sealed record TaskSplits(IReadOnlyList<TaskRow> Train, IReadOnlyList<TaskRow> Dev, IReadOnlyList<TaskRow> Test)
{
    /// <summary>
    /// MeZO's protocol (docs/algorithm.md §10): permute the train split with numpy's seed <paramref name="seed"/> and take the
    /// first numTrain + numDev rows, the last numDev of them being dev; test = the first numEval rows of a seed-0
    /// permutation of the validation split (the published test splits are unlabelled). Sizes are capped by the splits.
    /// </summary>
    public static TaskSplits Mezo(IReadOnlyList<TaskRow> trainSplit, IReadOnlyList<TaskRow> validationSplit,
                                  int numTrain, int numDev, int numEval, uint seed)
    {
        if (numTrain < 0 || numDev < 0 || numEval < 0) throw new QzoException("--num-train, --num-dev and --num-eval must be ≥ 0");
        var picked = MersenneTwister.NumpyPermutation(trainSplit.Count, seed).Take(numTrain + numDev).Select(i => trainSplit[i]).ToList();
        int dev = Math.Min(numDev, picked.Count);
        var test = MersenneTwister.NumpyPermutation(validationSplit.Count, 0).Take(numEval).Select(i => validationSplit[i]).ToList();
        return new TaskSplits(picked[..^dev], picked[^dev..], test);
    }
}
