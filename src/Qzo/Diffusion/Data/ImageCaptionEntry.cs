namespace Qzo.Diffusion.Data;

/// <summary>Where an example's image bytes are.</summary>
public abstract record ImageLocation;

/// <summary>An image file (PNG, JPEG, …) on disk.</summary>
public sealed record ImageFileLocation(string Path) : ImageLocation;

/// <summary>
/// Row <paramref name="RowInGroup"/> of row group <paramref name="RowGroup"/> of a Parquet file's image column;
/// <paramref name="Shown"/> is the file as messages name it.
/// </summary>
public sealed record ParquetImageLocation(string File, string Shown, string Column, int RowGroup, int RowInGroup) : ImageLocation;

/// <summary>
/// One image–caption pair of a dataset before caching. <see cref="Source"/> names it in messages and in cache.json: the
/// image file ("shapes/00017.png") or the Parquet row ("data/train-00000-of-00004.parquet: row 17").
/// </summary>
public sealed record ImageCaptionEntry(string Source, string Caption, ImageLocation Image);
