using Parquet;

namespace Qzo.Diffusion.Data;

/// <summary>
/// Reads the encoded bytes of entries' images: a file, or a Parquet row, for which the whole row group's image column is
/// read once and kept until a row of another group is asked for (so reading entries in order reads each group once).
/// </summary>
public sealed class ImageBytesReader : IDisposable
{
    readonly Dictionary<string, ParquetReader> _files = new(StringComparer.Ordinal);
    (string File, string Column, int Group)? _cachedGroup;
    byte[]?[] _cachedBytes = [];

    public byte[] Read(ImageCaptionEntry entry)
    {
        switch (entry.Image)
        {
            case ImageFileLocation f:
                if (!File.Exists(f.Path)) throw new QzoException($"{entry.Source}: image file not found");
                try { return File.ReadAllBytes(f.Path); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                { throw new QzoException($"{entry.Source}: cannot read the image ({e.Message})"); }
            case ParquetImageLocation p:
                var bytes = Group(p)[p.RowInGroup];
                if (bytes is null || bytes.Length == 0)
                    throw new QzoException($"{entry.Source}, column '{p.Column}': no image bytes (null or empty)");
                return bytes;
            default:
                throw new ArgumentException($"unknown image location {entry.Image}");
        }
    }

    byte[]?[] Group(ParquetImageLocation p)
    {
        if (_cachedGroup == (p.File, p.Column, p.RowGroup)) return _cachedBytes;
        string shown = p.Shown;
        if (!_files.TryGetValue(p.File, out var reader)) _files[p.File] = reader = ParquetImageReader.Open(p.File, shown);
        var field = ParquetImageReader.ImageBytesField(reader.Schema, p.Column, shown);
        _cachedGroup = null;
        try
        {
            using var group = reader.OpenRowGroupReader(p.RowGroup);
            _cachedBytes = new byte[]?[checked((int)group.RowCount)];
            group.ReadAsync(field, _cachedBytes.AsMemory()).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not QzoException) { throw ParquetImageReader.Corrupt(shown, e); }
        _cachedGroup = (p.File, p.Column, p.RowGroup);
        return _cachedBytes;
    }

    public void Dispose()
    {
        foreach (var reader in _files.Values) reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _files.Clear();
    }
}
