using SkiaSharp;

namespace Qzo.Imaging;

/// <summary>PNG out and PNG/JPEG/WebP in, through SkiaSharp. Files are written to a temporary name and renamed.</summary>
public static class ImageFiles
{
    public static void WritePng(RgbImage image, string path)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = new byte[4L * image.Width * image.Height];
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                long p = 4L * (y * image.Width + x);
                pixels[p] = RgbImage.ToByte(image[0, y, x]);
                pixels[p + 1] = RgbImage.ToByte(image[1, y, x]);
                pixels[p + 2] = RgbImage.ToByte(image[2, y, x]);
                pixels[p + 3] = 255;
            }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new QzoException($"{path}: the PNG encoder failed ({image.Width}×{image.Height})");
        string temporary = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var file = File.Create(temporary)) data.SaveTo(file);
            File.Move(temporary, path, overwrite: true);
        }
        finally { if (File.Exists(temporary)) File.Delete(temporary); }
    }

    /// <summary>Decodes an image file's bytes (PNG, JPEG, WebP, …) to RGB in [0, 1]; alpha is dropped.</summary>
    public static RgbImage Decode(byte[] bytes, string source)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(bytes))
            ?? throw new QzoException($"{source}: not an image (PNG, JPEG, WebP, GIF or BMP) that can be decoded");
        using var decoded = SKBitmap.Decode(codec) ?? throw new QzoException($"{source}: the {codec.EncodedFormat} data is corrupt");
        using var rgba = decoded.ColorType == SKColorType.Rgba8888 ? decoded.Copy() : decoded.Copy(SKColorType.Rgba8888)
            ?? throw new QzoException($"{source}: cannot convert its pixels to RGBA");
        var image = RgbImage.Blank(rgba.Width, rgba.Height);
        var pixels = rgba.GetPixelSpan();
        for (int y = 0; y < rgba.Height; y++)
            for (int x = 0; x < rgba.Width; x++)
            {
                int p = rgba.RowBytes * y + 4 * x;
                for (int c = 0; c < 3; c++) image[c, y, x] = pixels[p + c] / 255f;
            }
        return image;
    }

    public static RgbImage Read(string path) =>
        File.Exists(path) ? Decode(File.ReadAllBytes(path), path) : throw new QzoException($"{path}: not found");
}
