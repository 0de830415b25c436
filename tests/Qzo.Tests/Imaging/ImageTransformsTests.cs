using Qzo.Imaging;
using SkiaSharp;

namespace Qzo.Tests.Imaging;

/// <summary>ImageTransforms against hand-worked numbers of PIL's bilinear filter and a plain per-pixel reference.</summary>
public class ImageTransformsTests
{
    static RgbImage Row(params float[] values)
    {
        var image = RgbImage.Blank(values.Length, 1);
        for (int c = 0; c < 3; c++)
            for (int x = 0; x < values.Length; x++) image[c, 0, x] = values[x] * (c + 1) / 3;
        return image;
    }

    [Fact]
    public void HalvingARowWidensTheTriangleToTwoPixels()
    {
        // Output pixel 0 is centred at input 1.0 with support 2: taps 0, 1, 2 weigh 0.75, 0.75, 0.25 (then / 1.75);
        // pixel 1 is centred at 3.0: taps 1, 2, 3 weigh 0.25, 0.75, 0.75.
        var half = ImageTransforms.Resize(Row(0f, 0.3f, 0.6f, 0.9f), 2, 1);
        Assert.Equal(0.375f / 1.75f, half[2, 0, 0], 6);
        Assert.Equal(1.2f / 1.75f, half[2, 0, 1], 6);
        Assert.Equal(1.2f / 1.75f / 3, half[0, 0, 1], 6);
    }

    [Fact]
    public void DoublingARowInterpolatesBetweenNeighbours()
    {
        // Upscaling keeps the unit triangle: centres 0.25, 0.75, 1.25, 1.75 → a0, ¾a0 + ¼a1, ¼a0 + ¾a1, a1 (edges clamp).
        var twice = ImageTransforms.Resize(Row(0.2f, 1f), 4, 1);
        float[] expected = [0.2f, 0.75f * 0.2f + 0.25f, 0.25f * 0.2f + 0.75f, 1f];
        for (int x = 0; x < 4; x++) Assert.Equal(expected[x], twice[2, 0, x], 6);
    }

    [Theory]
    [InlineData(7, 5, 4, 3)]
    [InlineData(5, 7, 11, 9)]
    [InlineData(13, 4, 5, 4)]
    [InlineData(6, 6, 6, 6)]
    public void ResizeMatchesAPlainTwoDimensionalReference(int width, int height, int newWidth, int newHeight)
    {
        var random = new Random(width * 100 + height);
        var image = RgbImage.Blank(width, height);
        for (int i = 0; i < image.Planes.Length; i++) image.Planes[i] = (float)random.NextDouble();
        var ours = ImageTransforms.Resize(image, newWidth, newHeight);
        Assert.Equal((newWidth, newHeight), (ours.Width, ours.Height));
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < newHeight; y++)
                for (int x = 0; x < newWidth; x++)
                    Assert.Equal(ReferencePixel(image, c, x, y, newWidth, newHeight), ours[c, y, x], 1e-6);
    }

    /// <summary>Pillow's bilinear resampling written per output pixel: the product of the two axes' normalised taps.</summary>
    static double ReferencePixel(RgbImage image, int c, int x, int y, int newWidth, int newHeight)
    {
        var (xs, wx) = Taps(image.Width, newWidth, x);
        var (ys, wy) = Taps(image.Height, newHeight, y);
        double sum = 0;
        for (int j = 0; j < ys.Length; j++)
            for (int i = 0; i < xs.Length; i++) sum += wy[j] * wx[i] * image[c, ys[j], xs[i]];
        return sum;
    }

    static (int[] Index, double[] Weight) Taps(int inSize, int outSize, int i)
    {
        double scale = (double)inSize / outSize, width = Math.Max(scale, 1), center = (i + 0.5) * scale;
        var index = Enumerable.Range(0, inSize).Where(j => Math.Abs(j + 0.5 - center) < width).ToArray();
        var weight = index.Select(j => 1 - Math.Abs(j + 0.5 - center) / width).ToArray();
        double total = weight.Sum();
        return (index, weight.Select(w => w / total).ToArray());
    }

    [Theory]
    [InlineData(100, 50, 20, 40, 20)]
    [InlineData(50, 100, 20, 20, 40)]
    [InlineData(33, 20, 16, 26, 16)] // int(16 · 33 / 20) = 26
    [InlineData(64, 64, 32, 32, 32)]
    public void TheShorterSideBecomesTheSizeAndTheLongerIsTruncated(int width, int height, int size, int newWidth, int newHeight)
    {
        var resized = ImageTransforms.ResizeShorterSide(RgbImage.Blank(width, height, 0.5f), size);
        Assert.Equal((newWidth, newHeight), (resized.Width, resized.Height));
        Assert.All(resized.Planes, v => Assert.Equal(0.5f, v, 6));
    }

    [Theory]
    [InlineData(7, 4, 2)] // (7 − 4) / 2 = 1.5 rounds to 2
    [InlineData(5, 4, 0)] // 0.5 rounds to 0
    [InlineData(9, 4, 2)] // 2.5 rounds to 2
    [InlineData(10, 4, 3)]
    public void CenterCropRoundsTheOffsetHalfToEvenAsTorchvision(int width, int crop, int left)
    {
        var image = RgbImage.Blank(width, width);
        for (int y = 0; y < width; y++)
            for (int x = 0; x < width; x++) image[1, y, x] = x + 100 * y;
        var cropped = ImageTransforms.CenterCrop(image, crop, crop);
        Assert.Equal(left + 100 * left, cropped[1, 0, 0]);
        Assert.Equal(left + crop - 1 + 100 * (left + crop - 1), cropped[1, crop - 1, crop - 1]);
    }

    [Fact]
    public void MirroringAndSigningAreExact()
    {
        var image = Row(0f, 0.5f, 1f, 0.25f);
        var mirrored = ImageTransforms.MirrorHorizontally(image);
        for (int x = 0; x < 4; x++) Assert.Equal(image[1, 0, x], mirrored[1, 0, 3 - x]);
        var signed = ImageTransforms.ToSigned(Row(0f, 0.5f, 1f));
        float[] green = [-1f, -1f / 3, 1f / 3];
        for (int x = 0; x < 3; x++) Assert.Equal(green[x], signed[3 + x], 6);
        Assert.Equal([-1f, 0f, 1f], signed.AsSpan(6, 3).ToArray());
    }

    [Fact]
    public void ForTrainingResizesCropsThenMirrors()
    {
        var image = RgbImage.Blank(40, 20);
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 40; x++) image[0, y, x] = x / 39f;
        var plain = ImageTransforms.ForTraining(image, 10, mirrored: false);
        var mirrored = ImageTransforms.ForTraining(image, 10, mirrored: true);
        var expected = ImageTransforms.CenterCrop(ImageTransforms.Resize(image, 20, 10), 10, 10);
        Assert.Equal(expected.Planes, plain.Planes);
        Assert.Equal(ImageTransforms.MirrorHorizontally(plain).Planes, mirrored.Planes);
        Assert.True(plain[0, 5, 0] < plain[0, 5, 9]);
    }

    [Fact]
    public void TransparentPixelsKeepTheirColourAsPillowsConvertRgbDoes()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(2, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        byte[] pixels = [200, 100, 50, 128, 10, 20, 30, 0];
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        var image = ImageFiles.Decode(png.ToArray(), "alpha.png");
        Assert.Equal([200, 100, 50], Enumerable.Range(0, 3).Select(c => RgbImage.ToByte(image[c, 0, 0])));
        Assert.Equal([10, 20, 30], Enumerable.Range(0, 3).Select(c => RgbImage.ToByte(image[c, 0, 1])));
    }

    [Fact]
    public void ATruncatedImageIsOneErrorNamingIt()
    {
        using var folder = new TempFolder();
        ImageFiles.WritePng(StyledShapes.Render(0, 32).Image, folder["whole.png"]);
        var bytes = File.ReadAllBytes(folder["whole.png"]);
        var error = Assert.Throws<QzoException>(() => ImageFiles.Decode(bytes[..(bytes.Length / 2)], "cut.png"));
        Assert.Contains("cut.png", error.Message);
        Assert.Contains("truncated", error.Message);
    }
}
