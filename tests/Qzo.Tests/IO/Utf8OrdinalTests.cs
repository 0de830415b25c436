using Qzo.IO;

namespace Qzo.Tests.IO;

public class Utf8OrdinalTests
{
    [Fact]
    public void OrdersByCodePointLikeUtf8Bytes()
    {
        string bmpHigh = "\uFF21", astral = "\U0001F600";
        Assert.True(Utf8Ordinal.Comparer.Compare(bmpHigh, astral) < 0);
        Assert.True(StringComparer.Ordinal.Compare(bmpHigh, astral) > 0); // UTF-16 order differs here

        string[] names = ["b", "B", "a.weight", "a", "a.bias", "", astral, bmpHigh];
        var byBytes = names.OrderBy(n => n, Comparer<string>.Create((x, y) =>
            System.Text.Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(y))));
        Assert.Equal(byBytes, names.Order(Utf8Ordinal.Comparer));
    }
}
