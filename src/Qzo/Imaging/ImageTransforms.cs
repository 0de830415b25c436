namespace Qzo.Imaging;

/// <summary>
/// The image transforms of text-to-image training as torchvision applies them to a PIL image (the official QZO code's
/// Resize(r, bilinear) → CenterCrop(r) → RandomHorizontalFlip → ToTensor → Normalize(0.5, 0.5)).
/// </summary>
public static class ImageTransforms
{
    /// <summary>
    /// torchvision's Resize(size) on a PIL image: the shorter side becomes <paramref name="size"/> and the longer
    /// int(size · long / short), resampled by PIL's bilinear filter, which widens its triangle by the scale when
    /// shrinking (antialiasing). PIL rounds to 8 bits after each pass; this keeps fp32, so values differ by at most ~1/255.
    /// </summary>
    public static RgbImage ResizeShorterSide(RgbImage image, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        bool wide = image.Width >= image.Height;
        int shorter = wide ? image.Height : image.Width, longer = wide ? image.Width : image.Height;
        int newLonger = (int)((long)size * longer / shorter);
        return wide ? Resize(image, newLonger, size) : Resize(image, size, newLonger);
    }

    /// <summary>PIL's Image.resize(..., BILINEAR) to <paramref name="width"/>×<paramref name="height"/>, separable, in fp32.</summary>
    public static RgbImage Resize(RgbImage image, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (width == image.Width && height == image.Height) return image with { Planes = (float[])image.Planes.Clone() };
        var columns = BilinearWeights.For(image.Width, width);
        var rows = BilinearWeights.For(image.Height, height);
        var horizontal = new float[3L * image.Height * width];
        Parallel.For(0, 3 * image.Height, line =>
        {
            long source = (long)line * image.Width, target = (long)line * width;
            for (int x = 0; x < width; x++) horizontal[target + x] = columns.Apply(image.Planes, source, 1, x);
        });
        var result = RgbImage.Blank(width, height);
        Parallel.For(0, 3 * height, line =>
        {
            int c = line / height, y = line % height;
            long source = (long)c * image.Height * width, target = ((long)c * height + y) * width;
            for (int x = 0; x < width; x++) result.Planes[target + x] = rows.Apply(horizontal, source + x, width, y);
        });
        return result;
    }

    /// <summary>
    /// torchvision's CenterCrop: the window's top-left corner is round((H − h) / 2), round((W − w) / 2), with Python's
    /// round (halves to even).
    /// </summary>
    public static RgbImage CenterCrop(RgbImage image, int width, int height)
    {
        if (width > image.Width || height > image.Height)
            throw new ArgumentException($"cannot crop {width}×{height} out of {image.Width}×{image.Height}");
        int top = (int)Math.Round((image.Height - height) / 2.0, MidpointRounding.ToEven);
        int left = (int)Math.Round((image.Width - width) / 2.0, MidpointRounding.ToEven);
        var result = RgbImage.Blank(width, height);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < height; y++)
                Array.Copy(image.Planes, ((long)c * image.Height + top + y) * image.Width + left,
                           result.Planes, ((long)c * height + y) * width, width);
        return result;
    }

    /// <summary>The image mirrored left to right (torchvision's horizontal flip).</summary>
    public static RgbImage MirrorHorizontally(RgbImage image)
    {
        var result = RgbImage.Blank(image.Width, image.Height);
        for (long row = 0; row < 3L * image.Height; row++)
        {
            long start = row * image.Width;
            for (int x = 0; x < image.Width; x++) result.Planes[start + x] = image.Planes[start + image.Width - 1 - x];
        }
        return result;
    }

    /// <summary>ToTensor then Normalize(0.5, 0.5): [0, 1] → [−1, 1], planes [3, h, w] as the VAE reads them.</summary>
    public static float[] ToSigned(RgbImage image)
    {
        var values = new float[image.Planes.Length];
        for (long i = 0; i < values.LongLength; i++) values[i] = (image.Planes[i] - 0.5f) / 0.5f;
        return values;
    }

    /// <summary>Resize (shorter side), center crop to <paramref name="resolution"/>², and mirror when asked: the training image.</summary>
    public static RgbImage ForTraining(RgbImage image, int resolution, bool mirrored)
    {
        var square = CenterCrop(ResizeShorterSide(image, resolution), resolution, resolution);
        return mirrored ? MirrorHorizontally(square) : square;
    }
}
