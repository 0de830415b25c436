using Qzo.Imaging;

namespace Qzo.Tests.Imaging;

public class ImageFilesTests
{
    static RgbImage Gradient(int width, int height)
    {
        var image = RgbImage.Blank(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                image[0, y, x] = x / (width - 1f);
                image[1, y, x] = y / (height - 1f);
                image[2, y, x] = (x * 7 + y * 13) % 256 / 255f;
            }
        return image;
    }

    [Fact]
    public void APngReadsBackToTheSameEightBitValues()
    {
        using var folder = new TempFolder();
        var image = Gradient(37, 21);
        string path = Path.Combine(folder.Path, "gradient.png");
        ImageFiles.WritePng(image, path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(path)[..4]);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp-*"));

        var read = ImageFiles.Read(path);
        Assert.Equal((37, 21), (read.Width, read.Height));
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 21; y++)
                for (int x = 0; x < 37; x++)
                    Assert.Equal(RgbImage.ToByte(image[c, y, x]), RgbImage.ToByte(read[c, y, x]));
    }

    [Fact]
    public void EightBitValuesRoundAsNumpyDoes()
    {
        Assert.Equal(0, RgbImage.ToByte(-0.3f));
        Assert.Equal(255, RgbImage.ToByte(1.7f));
        Assert.Equal(128, RgbImage.ToByte(0.5f)); // 127.5 rounds half to even
        Assert.Equal(64, RgbImage.ToByte(0.25f));
    }

    [Fact]
    public void SignedDecoderOutputMapsToUnitRange()
    {
        float[] batch = [.. Enumerable.Repeat(-1f, 3 * 4), .. Enumerable.Repeat(0.5f, 3 * 4)];
        var second = RgbImage.FromSigned(batch, 1, 2, 2);
        Assert.All(second.Planes, v => Assert.Equal(0.75f, v));
        Assert.All(RgbImage.FromSigned(batch, 0, 2, 2).Planes, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void AContactSheetPlacesImagesRowByRow()
    {
        var images = Enumerable.Range(0, 5).Select(i => RgbImage.Blank(4, 3, i / 10f)).ToList();
        var sheet = ContactSheet.Compose(images, columns: 3, gap: 2);
        Assert.Equal((3 * 4 + 4 * 2, 2 * 3 + 3 * 2), (sheet.Width, sheet.Height));
        Assert.Equal(0.4f, sheet[1, 2 + 3 + 2, 2 + 4 + 2]); // image 4: second row, second column
        Assert.Equal(1f, sheet[0, 0, 0]);                    // the gap is white
        Assert.Equal(1f, sheet[2, 2 + 3 + 2, 2 + 2 * (4 + 2)]); // no sixth image
    }

    [Fact]
    public void AFileThatIsNotAnImageIsOneError()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "broken.png");
        File.WriteAllBytes(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var error = Assert.Throws<QzoException>(() => ImageFiles.Read(path));
        Assert.Contains("broken.png", error.Message);
    }
}
