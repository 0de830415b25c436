namespace Qzo.Diffusion.Data;

/// <summary>
/// An image–caption dataset as a user has it (docs/diffusion-training.md, "Data"): a folder of images with
/// metadata.jsonl or .txt captions (<see cref="ImageFolderReader"/>), or Parquet with image bytes — one .parquet file,
/// or a folder of them such as a Hub dataset's data/ (<see cref="ParquetImageReader"/>). <see cref="Entries"/> are the
/// rows the filters kept, in file order; <see cref="Files"/> every file read, relative to <see cref="Root"/>.
/// </summary>
public sealed record ImageCaptionDataset(string Path, string Root, string Kind, IReadOnlyList<ImageCaptionEntry> Entries,
                                         IReadOnlyList<string> Files, int Rows)
{
    public static ImageCaptionDataset Read(string path, ImageCaptionDataOptions options)
    {
        if (File.Exists(path))
        {
            if (!path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
                throw new QzoException($"{path}: not a Parquet file; give a .parquet file or a folder of images or of Parquet files");
            string root = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            return FromParquet(path, root, [path], options);
        }
        if (!Directory.Exists(path)) throw new QzoException($"{path}: image–caption data not found");
        var parquet = Directory.EnumerateFiles(path, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        if (parquet.Count == 0)
        {
            var (entries, files, rows) = ImageFolderReader.Read(path, options);
            return Checked(new ImageCaptionDataset(path, path, "image folder", entries, files, rows), options);
        }
        var stray = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .FirstOrDefault(f => ImageFolderReader.ImageExtensions.Contains(System.IO.Path.GetExtension(f).ToLowerInvariant()));
        if (stray is not null)
            throw new QzoException($"{path}: holds both Parquet files and images ({stray}); give one kind of data");
        return FromParquet(path, path, parquet, options);
    }

    static ImageCaptionDataset FromParquet(string path, string root, List<string> files, ImageCaptionDataOptions options)
    {
        var entries = new List<ImageCaptionEntry>();
        int rows = 0;
        foreach (var file in files)
        {
            var (read, count) = ParquetImageReader.Read(file, file, options);
            entries.AddRange(read);
            rows += count;
        }
        var relative = files.Select(f => System.IO.Path.GetRelativePath(root, f).Replace('\\', '/')).ToList();
        return Checked(new ImageCaptionDataset(path, root, "Parquet", entries, relative, rows), options);
    }

    static ImageCaptionDataset Checked(ImageCaptionDataset data, ImageCaptionDataOptions options)
    {
        if (data.Entries.Count == 0)
            throw new QzoException(options.Filters.Count > 0
                ? $"{data.Path}: none of its {data.Rows} rows matches {string.Join(" and ", options.Filters)}"
                : $"{data.Path}: no image–caption pairs");
        return data;
    }
}
