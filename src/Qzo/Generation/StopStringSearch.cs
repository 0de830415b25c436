namespace Qzo.Generation;

/// <summary>Where the first of several stop strings occurs in a text (ordinal comparison).</summary>
sealed class StopStringSearch(IReadOnlyList<string> stops)
{
    public bool IsEmpty => stops.Count == 0;

    /// <summary>The smallest index at which any stop string starts, or −1.</summary>
    public int FirstMatch(string text)
    {
        int first = -1;
        foreach (var stop in stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        return first;
    }
}
