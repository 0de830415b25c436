using Parquet;
using Parquet.Schema;

namespace Qzo.Diffusion.Data;

/// <summary>
/// Image–caption rows of Parquet files as the Hugging Face Hub stores image datasets (rezashkv/styles: columns image,
/// caption, style): the image column is a struct {bytes, path} as datasets writes its Image feature, or plain binary;
/// the caption and filter columns are strings. Only those columns are read, one row group at a time, so the listing
/// never holds the images; <see cref="ImageBytesReader"/> reads their bytes later, row group by row group.
/// </summary>
public static class ParquetImageReader
{
    public static (List<ImageCaptionEntry> Entries, int Rows) Read(string file, string shown, ImageCaptionDataOptions options)
    {
        var reader = Open(file, shown);
        try { return Read(reader, file, shown, options); }
        finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    static (List<ImageCaptionEntry>, int) Read(ParquetReader reader, string file, string shown, ImageCaptionDataOptions options)
    {
        var schema = reader.Schema;
        var caption = StringColumn(schema, options.CaptionColumn, shown, "--caption-column names the caption's");
        ImageBytesField(schema, options.ImageColumn, shown);
        var filters = options.Filters.Select(f => (Filter: f, Field: StringColumn(schema, f.Column, shown, $"for --filter {f}"))).ToList();
        var entries = new List<ImageCaptionEntry>();
        int rowOffset = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            int rows = checked((int)group.RowCount);
            var captions = ReadStrings(group, caption, rows, shown);
            var keep = Enumerable.Repeat(true, rows).ToArray();
            foreach (var (filter, field) in filters)
            {
                var values = ReadStrings(group, field, rows, shown);
                for (int i = 0; i < rows; i++) keep[i] &= values[i] == filter.Value;
            }
            for (int i = 0; i < rows; i++)
            {
                if (!keep[i]) continue;
                string where = $"{shown}: row {rowOffset + i}";
                string text = captions[i] ?? throw new QzoException($"{where}, column '{options.CaptionColumn}': no caption (null)");
                entries.Add(new ImageCaptionEntry(where, text, new ParquetImageLocation(file, shown, options.ImageColumn, g, i)));
            }
            rowOffset += rows;
        }
        return (entries, rowOffset);
    }

    /// <summary>The leaf that holds an image column's encoded bytes: the struct's "bytes" child, or the column itself.</summary>
    public static DataField ImageBytesField(ParquetSchema schema, string column, string shown)
    {
        var field = schema.Fields.FirstOrDefault(f => f.Name == column)
            ?? throw new QzoException($"{shown}: no column '{column}' (columns: {Columns(schema)}; --image-column names the image's)");
        var leaf = field switch
        {
            StructField s => s.Fields.OfType<DataField>().FirstOrDefault(c => c.Name == "bytes"),
            DataField d => d,
            _ => null,
        };
        if (leaf is null || leaf.MaxRepetitionLevel > 0 || !IsBinary(leaf))
            throw new QzoException($"{shown}: column '{column}' is not an image (a struct {{bytes, path}} as datasets writes, " +
                                   "or binary)");
        return leaf;
    }

    /// <summary>Opens a Parquet file; a file Parquet.Net cannot read is one line naming it.</summary>
    public static ParquetReader Open(string file, string shown)
    {
        if (!File.Exists(file)) throw new QzoException($"{shown}: Parquet file not found");
        try { return ParquetReader.CreateAsync(file).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not QzoException) { throw Corrupt(shown, e); }
    }

    public static QzoException Corrupt(string shown, Exception e) =>
        new($"{shown}: corrupt or unreadable Parquet file ({e.GetType().Name}: {e.Message.Split('\n', 2)[0].Trim()})");

    static DataField StringColumn(ParquetSchema schema, string column, string shown, string hint)
    {
        var field = schema.Fields.FirstOrDefault(f => f.Name == column)
            ?? throw new QzoException($"{shown}: no column '{column}' (columns: {Columns(schema)}; {hint})");
        if (field is not DataField d || d.MaxRepetitionLevel > 0 ||
            (d.ClrType != typeof(string) && d.ClrType != typeof(ReadOnlyMemory<char>)))
            throw new QzoException($"{shown}: column '{column}' is not a string column");
        return d;
    }

    static string?[] ReadStrings(ParquetRowGroupReader group, DataField field, int rows, string shown)
    {
        var values = new string?[rows];
        try { group.ReadAsync(field, values.AsMemory()).AsTask().GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not QzoException) { throw Corrupt(shown, e); }
        return values;
    }

    static bool IsBinary(DataField d) => d.ClrType == typeof(byte[]) || d.ClrType == typeof(ReadOnlyMemory<byte>);

    static string Columns(ParquetSchema schema) => string.Join(", ", schema.Fields.Select(f => f.Name));
}
