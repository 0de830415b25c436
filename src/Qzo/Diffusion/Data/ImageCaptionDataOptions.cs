namespace Qzo.Diffusion.Data;

/// <summary>
/// How to read an image–caption dataset: the caption column (metadata.jsonl's or the Parquet file's; datasets'
/// ImageFolder calls it "text"), the Parquet image column, and column filters that keep the rows whose column equals
/// the value (rezashkv/styles: style = tarot).
/// </summary>
public sealed record ImageCaptionDataOptions
{
    public string CaptionColumn { get; init; } = "text";
    public string ImageColumn { get; init; } = "image";
    public IReadOnlyList<ColumnFilter> Filters { get; init; } = [];
}

/// <summary>Keep the rows whose <see cref="Column"/> holds exactly <see cref="Value"/> (compared as text).</summary>
public sealed record ColumnFilter(string Column, string Value)
{
    /// <summary>Parses "column=value" (the value may contain '=').</summary>
    public static ColumnFilter Parse(string text)
    {
        int at = text.IndexOf('=');
        if (at <= 0) throw new QzoException($"--filter '{text}' must be COLUMN=VALUE, e.g. style=tarot");
        return new ColumnFilter(text[..at], text[(at + 1)..]);
    }

    public override string ToString() => $"{Column}={Value}";
}
