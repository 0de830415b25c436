namespace Qzo.IO;

/// <summary>
/// Orders strings by Unicode code point, which is the order of their UTF-8 bytes: how Rust sorts
/// <c>String</c>s and Python sorts <c>str</c>s. It differs from <see cref="StringComparer.Ordinal"/>
/// (UTF-16 code units) only for characters beyond U+FFFF against U+E000..U+FFFF.
/// </summary>
public sealed class Utf8Ordinal : IComparer<string>
{
    public static readonly Utf8Ordinal Comparer = new();

    Utf8Ordinal() { }

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        int n = Math.Min(x.Length, y.Length);
        for (int i = 0; i < n; i++)
        {
            char a = x[i], b = y[i];
            if (a == b) continue;
            // Surrogates (D800..DFFF) encode code points above every BMP character.
            bool sa = char.IsSurrogate(a), sb = char.IsSurrogate(b);
            if (sa != sb) return sa ? 1 : -1;
            return a < b ? -1 : 1;
        }
        return x.Length.CompareTo(y.Length);
    }
}
