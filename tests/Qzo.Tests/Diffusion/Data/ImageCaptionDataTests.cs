using Parquet.Serialization;
using Qzo.Diffusion.Data;
using Qzo.Imaging;

namespace Qzo.Tests.Diffusion.Data;

/// <summary>Reading image–caption data as users have it: ImageFolder metadata.jsonl, .txt captions, Hub Parquet; the split.</summary>
public class ImageCaptionDataTests
{
    static readonly ImageCaptionDataOptions Defaults = new();

    static void Png(string path, int index = 0)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        ImageFiles.WritePng(StyledShapes.Render(index, 16).Image, path);
    }

    [Fact]
    public void MetadataJsonlNamesImagesRelativeToItselfAndGivesTheirCaptions()
    {
        using var folder = new TempFolder();
        Png(folder["a.png"], 0);
        Png(folder["sub/b.jpg.png"], 1);
        Png(folder["sub/c.png"], 2);
        File.WriteAllLines(folder["metadata.jsonl"], [
            """{"file_name": "a.png", "text": "first", "style": "tarot"}""",
        ]);
        File.WriteAllLines(folder["sub/metadata.jsonl"], [
            """{"file_name": "c.png", "text": "third", "style": "yarn"}""",
            "",
            """{"file_name": "b.jpg.png", "text": "second", "style": "tarot"}""",
        ]);
        var data = ImageCaptionDataset.Read(folder.Path, Defaults);
        Assert.Equal("image folder", data.Kind);
        Assert.Equal(["first", "second", "third"], data.Entries.Select(e => e.Caption)); // in image path order
        Assert.Equal(folder["sub/b.jpg.png"], Assert.IsType<ImageFileLocation>(data.Entries[1].Image).Path);
        Assert.Equal(["a.png", "metadata.jsonl", "sub/b.jpg.png", "sub/c.png", "sub/metadata.jsonl"],
                     data.Files.Order(StringComparer.Ordinal));

        var tarot = ImageCaptionDataset.Read(folder.Path, Defaults with { Filters = [ColumnFilter.Parse("style=tarot")] });
        Assert.Equal(["first", "second"], tarot.Entries.Select(e => e.Caption));
        Assert.Equal(3, tarot.Rows);
        var byStyle = ImageCaptionDataset.Read(folder.Path, Defaults with { CaptionColumn = "style" });
        Assert.Equal(["tarot", "tarot", "yarn"], byStyle.Entries.Select(e => e.Caption));
    }

    [Theory]
    [InlineData("""{"file_name": "a.png", "caption": "x"}""", "metadata.jsonl:1", "no column 'text'")]
    [InlineData("""{"file_name": "missing.png", "text": "x"}""", "metadata.jsonl:1", "missing.png")]
    [InlineData("""{"file_name": "a.png", "text": 5}""", "metadata.jsonl:1", "must be a string")]
    [InlineData("""{"text": "x"}""", "metadata.jsonl:1", "file_name")]
    public void ABadMetadataRowIsOneErrorNamingTheLine(string row, string where, string what)
    {
        using var folder = new TempFolder();
        Png(folder["a.png"]);
        File.WriteAllText(folder["metadata.jsonl"], row + "\n");
        var e = Assert.Throws<QzoException>(() => ImageCaptionDataset.Read(folder.Path, Defaults));
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void AnImageNoMetadataRowNamesIsAnErrorNotASkip()
    {
        using var folder = new TempFolder();
        Png(folder["a.png"]);
        Png(folder["orphan.png"]);
        File.WriteAllText(folder["metadata.jsonl"], """{"file_name": "a.png", "text": "x"}""" + "\n");
        var e = Assert.Throws<QzoException>(() => ImageCaptionDataset.Read(folder.Path, Defaults));
        Assert.Contains("orphan.png", e.Message);
    }

    [Fact]
    public void TextFilesBesideImagesAreTheirCaptions()
    {
        using var folder = new TempFolder();
        Png(folder["x/one.png"]);
        File.WriteAllText(folder["x/one.txt"], "  a red circle\n");
        Png(folder["two.jpeg.png"]);
        File.WriteAllText(folder["two.jpeg.txt"], "a blue square");
        var data = ImageCaptionDataset.Read(folder.Path, Defaults);
        Assert.Equal(["a blue square", "a red circle"], data.Entries.Select(e => e.Caption));
        Assert.Equal(Path.Combine(folder.Path, "x/one.png"), data.Entries[1].Source);

        File.Delete(folder["x/one.txt"]);
        var e = Assert.Throws<QzoException>(() => ImageCaptionDataset.Read(folder.Path, Defaults));
        Assert.Contains("one.png: no caption", e.Message);
        var filter = Assert.Throws<QzoException>(() =>
            ImageCaptionDataset.Read(folder.Path, Defaults with { Filters = [new ColumnFilter("style", "x")] }));
        Assert.Contains("--filter", filter.Message);
    }

    public sealed class HubImage { public byte[]? bytes { get; set; } public string? path { get; set; } }
    public sealed class StylesRow
    {
        public HubImage? image { get; set; }
        public string? caption { get; set; }
        public string? style { get; set; }
    }

    static async Task<List<byte[]>> WriteStyles(string path, int rows, int rowGroupSize)
    {
        var images = new List<byte[]>();
        var data = new List<StylesRow>();
        using var temp = new TempFolder();
        for (int i = 0; i < rows; i++)
        {
            Png(temp[$"{i}.png"], i);
            images.Add(File.ReadAllBytes(temp[$"{i}.png"]));
            data.Add(new StylesRow
            {
                image = new HubImage { bytes = images[i], path = $"{i}.png" }, caption = $"caption {i}",
                style = i % 3 == 0 ? "tarot" : "yarn",
            });
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await ParquetSerializer.SerializeAsync(data, path, new Parquet.ParquetOptions { RowGroupSize = rowGroupSize });
        return images;
    }

    [Fact]
    public async Task HubParquetRowsGiveTheirImageBytesCaptionsAndStyleSubset()
    {
        using var folder = new TempFolder();
        var images = await WriteStyles(folder["data/train-00000-of-00001.parquet"], 7, rowGroupSize: 3);
        await using (var file = await Parquet.ParquetReader.CreateAsync(folder["data/train-00000-of-00001.parquet"]))
            Assert.Equal(3, file.RowGroupCount); // rows 0–2, 3–5, 6: the reader crosses row groups
        var options = Defaults with { CaptionColumn = "caption" };
        var data = ImageCaptionDataset.Read(folder.Path, options);
        Assert.Equal("Parquet", data.Kind);
        Assert.Equal(["data/train-00000-of-00001.parquet"], data.Files);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"caption {i}"), data.Entries.Select(e => e.Caption));
        Assert.EndsWith("train-00000-of-00001.parquet: row 4", data.Entries[4].Source);
        using (var reader = new ImageBytesReader())
            for (int i = 0; i < 7; i++) Assert.Equal(images[i], reader.Read(data.Entries[i]));

        var tarot = ImageCaptionDataset.Read(folder["data/train-00000-of-00001.parquet"],
                                             options with { Filters = [ColumnFilter.Parse("style=tarot")] });
        Assert.Equal(["caption 0", "caption 3", "caption 6"], tarot.Entries.Select(e => e.Caption));
        Assert.EndsWith(": row 6", tarot.Entries[2].Source);
        using (var reader = new ImageBytesReader()) Assert.Equal(images[6], reader.Read(tarot.Entries[2]));
    }

    [Fact]
    public async Task MissingColumnsAndImagelessRowsAreOneErrorNamingTheFileOrRow()
    {
        using var folder = new TempFolder();
        await WriteStyles(folder["styles.parquet"], 2, rowGroupSize: 10);
        var noText = Assert.Throws<QzoException>(() => ImageCaptionDataset.Read(folder["styles.parquet"], Defaults));
        Assert.Contains("styles.parquet: no column 'text' (columns: image, caption, style", noText.Message);
        var noImage = Assert.Throws<QzoException>(() =>
            ImageCaptionDataset.Read(folder["styles.parquet"], Defaults with { CaptionColumn = "caption", ImageColumn = "picture" }));
        Assert.Contains("--image-column", noImage.Message);
        var notImage = Assert.Throws<QzoException>(() =>
            ImageCaptionDataset.Read(folder["styles.parquet"], Defaults with { CaptionColumn = "caption", ImageColumn = "style" }));
        Assert.Contains("column 'style' is not an image", notImage.Message);

        await ParquetSerializer.SerializeAsync(new[] { new StylesRow { image = null, caption = "empty", style = "x" } },
                                               folder["empty.parquet"]);
        var data = ImageCaptionDataset.Read(folder["empty.parquet"], Defaults with { CaptionColumn = "caption" });
        using var reader = new ImageBytesReader();
        var e = Assert.Throws<QzoException>(() => reader.Read(data.Entries[0]));
        Assert.Contains("empty.parquet: row 0, column 'image': no image bytes", e.Message);
    }

    [Fact]
    public void TheSplitHoldsOutTheCeilingOfTheFractionByTheSeed()
    {
        var entries = Enumerable.Range(0, 10).Select(i => new ImageCaptionEntry($"{i}", $"{i}", new ImageFileLocation($"{i}"))).ToList();
        var split = ImageCaptionSplit.ByFraction(entries, 0.25, seed: 3);
        Assert.Equal(3, split.Validation.Count);
        Assert.Equal(7, split.Train.Count);
        Assert.Empty(split.Train.Intersect(split.Validation));
        Assert.Equal(split.Validation, ImageCaptionSplit.ByFraction(entries, 0.25, seed: 3).Validation);
        Assert.NotEqual(split.Validation, ImageCaptionSplit.ByFraction(entries, 0.25, seed: 4).Validation);
        Assert.True(split.Train.Select(e => int.Parse(e.Source)).SequenceEqual(split.Train.Select(e => int.Parse(e.Source)).Order()));
        Assert.Empty(ImageCaptionSplit.ByFraction(entries, 0, seed: 3).Validation);
        Assert.Throws<QzoException>(() => ImageCaptionSplit.ByFraction(entries.Take(1).ToList(), 0.5, seed: 0));
    }
}
