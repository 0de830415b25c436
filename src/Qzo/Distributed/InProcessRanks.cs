using System.Runtime.ExceptionServices;

namespace Qzo.Distributed;

/// <summary>Runs a body once per rank, each on its own thread with its member of a new <see cref="InProcessGroup"/>.</summary>
public static class InProcessRanks
{
    /// <returns>each rank's result, by rank.</returns>
    /// <exception cref="Exception">the first rank's own failure (not the stops it caused in the others), rethrown as it was.</exception>
    public static T[] Run<T>(int worldSize, Func<ICommunicator, T> body)
    {
        var members = InProcessGroup.Create(worldSize);
        var results = new T[worldSize];
        var errors = new Exception?[worldSize];
        var threads = members.Select(member => new Thread(() =>
        {
            try { results[member.Rank] = body(member); }
            catch (Exception e)
            {
                errors[member.Rank] = e;
                InProcessGroup.Abort(member, e);
            }
        }, maxStackSize: 16 << 20) { Name = $"rank {member.Rank}", IsBackground = true }).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        var cause = errors.FirstOrDefault(e => e is not null and not RankAbortedException) ?? errors.FirstOrDefault(e => e is not null);
        if (cause is not null) ExceptionDispatchInfo.Capture(cause).Throw();
        return results;
    }
}
