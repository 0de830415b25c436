namespace Qzo.Hub;

/// <summary>How downloads show themselves: the CLI draws a bar per file; the library default prints nothing.</summary>
public interface IHubProgress
{
    /// <summary>
    /// Runs one file's <paramref name="transfer"/>, which reports the bytes on disk so far (out of <paramref name="size"/>).
    /// </summary>
    void File(string name, long size, Action<Action<long>> transfer);

    /// <summary>A line worth telling (a resumed download, a wait for another process's lock).</summary>
    void Note(string line);

    public static IHubProgress Silent { get; } = new SilentProgress();

    sealed class SilentProgress : IHubProgress
    {
        public void File(string name, long size, Action<Action<long>> transfer) => transfer(_ => { });
        public void Note(string line) { }
    }
}
