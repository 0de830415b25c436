using Qzo.Imaging;

namespace Qzo.Diffusion.Data;

/// <summary>
/// Decodes every image once before any model is loaded, so a bad image stops `qzo prepare` at once with a line naming it
/// (or, with --skip-bad-images, is left out with a warning) rather than failing hours into the VAE pass.
/// </summary>
public static class ImageChecks
{
    const int Chunk = 64;

    /// <summary>The entries whose image cannot be read or decoded, with the one-line reason (naming the file or row).</summary>
    public static IReadOnlyDictionary<ImageCaptionEntry, string> FindBad(IReadOnlyList<ImageCaptionEntry> entries,
                                                                         Action<int>? checkedSoFar = null)
    {
        var bad = new System.Collections.Concurrent.ConcurrentDictionary<ImageCaptionEntry, string>(ReferenceEqualityComparer.Instance);
        using var reader = new ImageBytesReader();
        for (int start = 0; start < entries.Count; start += Chunk)
        {
            int count = Math.Min(Chunk, entries.Count - start);
            var bytes = new byte[]?[count];
            for (int i = 0; i < count; i++)
            {
                try { bytes[i] = reader.Read(entries[start + i]); }
                catch (QzoException e) { bad[entries[start + i]] = e.Message; }
            }
            Parallel.For(0, count, i =>
            {
                if (bytes[i] is not { } data) return;
                try { ImageFiles.Decode(data, entries[start + i].Source); }
                catch (QzoException e) { bad[entries[start + i]] = e.Message; }
            });
            checkedSoFar?.Invoke(start + count);
        }
        return bad;
    }
}
