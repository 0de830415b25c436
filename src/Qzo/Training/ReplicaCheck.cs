using System.Runtime.InteropServices;
using Qzo.Distributed;
using Qzo.Numerics;

namespace Qzo.Training;

/// <summary>
/// Data-parallel ranks must hold bit-identical trainable values: each rank hashes its own, the hashes are exchanged
/// (as 16-bit pieces in a sum all-reduce, which carries them exactly), and any rank that differs from rank 0 stops the
/// run on every rank with one line naming the step and the ranks.
/// </summary>
public static class ReplicaCheck
{
    /// <summary>A 64-bit hash of every value's bits, tensor by tensor, in index order.</summary>
    public static ulong Fingerprint(ITrainableSet set)
    {
        ulong hash = 0x51A7_E000_0000_0001UL;
        foreach (var values in set.Snapshot())
        {
            hash = SplitMix64.Mix(hash ^ (ulong)values.Length);
            foreach (uint bits in MemoryMarshal.Cast<float, uint>(values)) hash = SplitMix64.Mix(hash ^ bits);
        }
        return hash;
    }

    /// <param name="step">the number of steps done, for the message.</param>
    public static void Verify(ITrainableSet set, ICommunicator communicator, int step)
    {
        const int Pieces = 4;
        ulong own = Fingerprint(set);
        var slots = new double[Pieces * communicator.WorldSize];
        for (int q = 0; q < Pieces; q++) slots[Pieces * communicator.Rank + q] = (own >> (16 * q)) & 0xFFFF;
        communicator.AllReduceSum(slots);
        var hashes = new ulong[communicator.WorldSize];
        for (int r = 0; r < hashes.Length; r++)
            for (int q = 0; q < Pieces; q++) hashes[r] |= (ulong)slots[Pieces * r + q] << (16 * q);
        var differing = Enumerable.Range(1, hashes.Length - 1).Where(r => hashes[r] != hashes[0]).ToList();
        if (differing.Count > 0)
            throw new QzoException(
                $"after step {step}: the trainable values of rank(s) {string.Join(", ", differing)} differ from rank 0's " +
                $"(fingerprints {string.Join(", ", differing.Select(r => $"{hashes[r]:x16}"))} vs {hashes[0]:x16}); the ranks no " +
                "longer train the same model");
    }
}
