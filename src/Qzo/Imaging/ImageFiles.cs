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

    /// <summary>
    /// PIL's decompression-bomb limit (Image.MAX_IMAGE_PIXELS × 2, where PIL raises an error): larger images are refused
    /// before their pixels are allocated.
    /// </summary>
    public const long MaxPixels = 178_956_970;

    /// <summary>
    /// Decodes an image file's bytes (PNG, JPEG, WebP, GIF's first frame, BMP) to RGB in [0, 1]. Alpha is dropped without
    /// blending, as PIL's convert("RGB") drops it; no ICC profile or EXIF orientation is applied (PIL applies neither).
    /// A truncated or corrupt file is refused, as PIL refuses it, with <paramref name="source"/> in the message.
    /// </summary>
    public static RgbImage Decode(byte[] bytes, string source)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(bytes))
            ?? throw new QzoException($"{source}: not an image (PNG, JPEG, WebP, GIF or BMP) that can be decoded");
        int width = codec.Info.Width, height = codec.Info.Height;
        if (width <= 0 || height <= 0) throw new QzoException($"{source}: the image has no pixels ({width}×{height})");
        if ((long)width * height > MaxPixels)
            throw new QzoException($"{source}: {width}×{height} pixels is over the {MaxPixels:N0}-pixel limit (a decompression bomb?)");
        string format = codec.EncodedFormat.ToString().ToUpperInvariant();
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[info.BytesSize64];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = pixels) result = codec.GetPixels(info, (IntPtr)p);
        }
        if (result != SKCodecResult.Success)
            throw new QzoException(result == SKCodecResult.IncompleteInput
                ? $"{source}: the {format} data is truncated"
                : $"{source}: the {format} data is corrupt ({result})");
        var image = RgbImage.Blank(width, height);
        long plane = (long)width * height;
        for (long i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++) image.Planes[c * plane + i] = pixels[4 * i + c] / 255f;
        return image;
    }

    public static RgbImage Read(string path) =>
        File.Exists(path) ? Decode(File.ReadAllBytes(path), path) : throw new QzoException($"{path}: not found");
}
