using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Diffusion.Data;

/// <summary>
/// A folder of images with captions, as Hugging Face datasets' ImageFolder reads it: metadata.jsonl files (in the folder
/// or any subfolder) whose rows name an image by file_name, relative to the metadata file, and carry the caption in a
/// column ("text" by default) and any other columns; or, without metadata, a .txt file beside each image with the same
/// stem holding its caption. Images are found in all subfolders, in ordinal path order. Every image needs a caption: an
/// image that no metadata row names, or without its .txt, is an error naming the image, never skipped.
/// </summary>
public static class ImageFolderReader
{
    public static IReadOnlyList<string> ImageExtensions { get; } = [".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"];
    static readonly string[] UnreadableImageExtensions = [".tif", ".tiff", ".heic", ".heif", ".avif", ".jxl"];
    public const string MetadataFileName = "metadata.jsonl";

    /// <summary>The entries (filtered) and the files they were read from, relative to <paramref name="root"/>.</summary>
    public static (List<ImageCaptionEntry> Entries, List<string> Files, int Rows) Read(string root, ImageCaptionDataOptions options)
    {
        var all = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Relative(root, f)).Order(StringComparer.Ordinal).ToList();
        foreach (var f in all)
        {
            string name = Path.GetFileName(f), ext = Path.GetExtension(f).ToLowerInvariant();
            if (name is "metadata.csv" or "metadata.parquet")
                throw new QzoException($"{Shown(root, f)}: Qzo reads ImageFolder captions from {MetadataFileName} only; convert it");
            if (UnreadableImageExtensions.Contains(ext))
                throw new QzoException($"{Shown(root, f)}: {ext} images cannot be decoded (PNG, JPEG, WebP, GIF or BMP); convert it");
        }
        var images = all.Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).ToList();
        if (images.Count == 0) throw new QzoException($"{root}: no images found (PNG, JPEG, WebP, GIF or BMP, in any subfolder)");
        var metadata = all.Where(f => Path.GetFileName(f) == MetadataFileName).ToList();
        return metadata.Count > 0 ? FromMetadata(root, images, metadata, options) : FromTextFiles(root, images, options);
    }

    static (List<ImageCaptionEntry>, List<string>, int) FromMetadata(string root, List<string> images, List<string> metadataFiles,
                                                                     ImageCaptionDataOptions options)
    {
        var imageSet = images.ToHashSet(StringComparer.Ordinal);
        var rowsByImage = new Dictionary<string, (JsonObject Row, string Where)>(StringComparer.Ordinal);
        foreach (var metadata in metadataFiles)
        {
            string folder = Path.GetDirectoryName(metadata) ?? "";
            foreach (var (line, row) in JsonlFile.ReadObjects(Path.Combine(root, metadata), "metadata file"))
            {
                string where = $"{Shown(root, metadata)}:{line}";
                if (row["file_name"] is not JsonValue fileValue || !fileValue.TryGetValue(out string? fileName))
                    throw new QzoException($"{where}: no \"file_name\" string (the image this row describes)");
                string image = Relative(root, Path.GetFullPath(Path.Combine(root, folder, fileName)));
                if (image.StartsWith("../", StringComparison.Ordinal))
                    throw new QzoException($"{where}: file_name '{fileName}' lies outside {root}");
                if (!imageSet.Contains(image))
                    throw new QzoException($"{where}: file_name '{fileName}' is not an image in the folder ({Shown(root, image)})");
                if (!rowsByImage.TryAdd(image, (row, where)))
                    throw new QzoException($"{where}: '{fileName}' already has a row at {rowsByImage[image].Where}");
            }
        }
        var entries = new List<ImageCaptionEntry>();
        foreach (var image in images)
        {
            if (!rowsByImage.TryGetValue(image, out var found))
                throw new QzoException($"{Shown(root, image)}: no row of {MetadataFileName} names it (every image needs a caption)");
            if (!options.Filters.All(f => Matches(found.Row, f, found.Where))) continue;
            string caption = Caption(found.Row, options.CaptionColumn, found.Where);
            entries.Add(new ImageCaptionEntry(Shown(root, image), caption, new ImageFileLocation(Path.Combine(root, image))));
        }
        return (entries, [.. metadataFiles, .. images], images.Count);
    }

    static (List<ImageCaptionEntry>, List<string>, int) FromTextFiles(string root, List<string> images, ImageCaptionDataOptions options)
    {
        if (options.Filters.Count > 0)
            throw new QzoException($"{root}: --filter needs columns, which only {MetadataFileName} or Parquet data have " +
                                   "(this folder has .txt captions)");
        var entries = new List<ImageCaptionEntry>();
        var files = new List<string>();
        foreach (var image in images)
        {
            string text = Path.ChangeExtension(image, ".txt");
            string full = Path.Combine(root, text);
            if (!File.Exists(full))
                throw new QzoException($"{Shown(root, image)}: no caption ({Path.GetFileName(text)} beside it, or a {MetadataFileName})");
            entries.Add(new ImageCaptionEntry(Shown(root, image), StrictUtf8.ReadAllText(full, "caption file").Trim(),
                                              new ImageFileLocation(Path.Combine(root, image))));
            files.Add(image);
            files.Add(text);
        }
        return (entries, files, images.Count);
    }

    static string Caption(JsonObject row, string column, string where) => row[column] switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        null when !row.ContainsKey(column) =>
            throw new QzoException($"{where}: no column '{column}' (columns: {string.Join(", ", row.Select(p => p.Key))}; " +
                                   "--caption-column names the caption's)"),
        var other => throw new QzoException($"{where}, column '{column}': the caption must be a string, not " +
                                            $"{other?.ToJsonString() ?? "null"}"),
    };

    static bool Matches(JsonObject row, ColumnFilter filter, string where)
    {
        if (!row.ContainsKey(filter.Column))
            throw new QzoException($"{where}: no column '{filter.Column}' for --filter {filter}");
        return row[filter.Column] switch
        {
            JsonValue v when v.TryGetValue(out string? s) => s == filter.Value,
            null => false,
            var other => other.ToJsonString() == filter.Value,
        };
    }

    static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');

    /// <summary>The path as the user would write it: the data folder as given, then the relative path.</summary>
    static string Shown(string root, string relative) => Path.Combine(root, relative);
}
