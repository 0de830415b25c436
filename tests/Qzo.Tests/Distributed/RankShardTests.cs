using Qzo.Distributed;

namespace Qzo.Tests.Distributed;

public class RankShardTests
{
    [Fact]
    public void TheSharesInRankOrderAreTheListExactlyOnce()
    {
        foreach (int count in new[] { 0, 1, 2, 5, 16, 17 })
            foreach (int world in new[] { 1, 2, 3, 4, 7 })
            {
                var items = Enumerable.Range(100, count).ToArray();
                var shares = Enumerable.Range(0, world).Select(r => RankShard.Of(items, r, world)).ToList();
                Assert.Equal(items, shares.SelectMany(s => s));
                Assert.True(shares.Max(s => s.Count) - shares.Min(s => s.Count) <= 1, $"{count} over {world}");
            }
    }

    [Fact]
    public void ARankOutsideTheWorldIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RankShard.Range(10, 3, 3));
}
