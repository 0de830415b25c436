using System.Text.Json.Nodes;
using Qzo.Imaging;

namespace Qzo.Tests.Imaging;

public class StyledShapesTests
{
    [Fact]
    public void APictureDependsOnlyOnTheSeedAndIndex()
    {
        var a = StyledShapes.Render(5, 32, seed: 3);
        Assert.Equal(a.Image.Planes, StyledShapes.Render(5, 32, seed: 3).Image.Planes);
        Assert.NotEqual(a.Image.Planes, StyledShapes.Render(5, 32, seed: 4).Image.Planes);
        Assert.NotEqual(a.Image.Planes, StyledShapes.Render(6, 32, seed: 3).Image.Planes);
    }

    [Fact]
    public void CaptionsNameWhatIsDrawnInTheStyle()
    {
        var shapes = Enumerable.Range(0, 60).Select(i => StyledShapes.Render(i, 16)).ToList();
        Assert.Equal(StyledShapes.Shapes.Order(), shapes.Select(s => s.Shape).Distinct().Order());
        foreach (var s in shapes)
        {
            Assert.EndsWith(StyledShapes.StyleWords, s.Caption);
            Assert.Contains($"{s.Color} {s.Shape}", s.Caption);
            Assert.Contains($"on a {s.Background} background", s.Caption);
            Assert.NotEqual(s.Color, s.Background);
        }
    }

    [Fact]
    public void APictureIsInkFrameBackgroundAndShapeInFlatColours()
    {
        const int side = 100; // the frame, 3% of the side, ends on a pixel boundary
        var s = StyledShapes.Render(2, side);
        for (int x = 0; x < side; x++) Assert.True(Brightness(s.Image, 0, x) < 0.2f, $"the frame at x = {x} is not ink");
        var shares = Enumerable.Range(0, side * side)
            .GroupBy(p => (RgbImage.ToByte(s.Image[0, p / side, p % side]), RgbImage.ToByte(s.Image[1, p / side, p % side]),
                           RgbImage.ToByte(s.Image[2, p / side, p % side])))
            .Select(g => g.Count() / (double)(side * side)).Where(share => share > 0.05).ToList();
        Assert.Equal(3, shares.Count); // ink, background and shape; the rest are antialiased edges
        Assert.True(shares.Sum() > 0.85, $"flat colours cover only {shares.Sum():P0}");
    }

    static float Brightness(RgbImage image, int y, int x) => (image[0, y, x] + image[1, y, x] + image[2, y, x]) / 3;

    [Fact]
    public void AnImageFolderHoldsPngsAndMetadataThatNameThem()
    {
        using var folder = new TempFolder();
        StyledShapes.WriteImageFolder(folder.Path, 7, 24, seed: 1);
        var lines = File.ReadAllLines(folder["metadata.jsonl"]).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(7, lines.Count);
        for (int i = 0; i < 7; i++)
        {
            string name = (string)lines[i]["file_name"]!;
            Assert.Equal($"{i:D5}.png", name);
            var expected = StyledShapes.Render(i, 24, seed: 1);
            Assert.Equal(expected.Caption, (string)lines[i]["text"]!);
            Assert.Equal(expected.Shape, (string)lines[i]["shape"]!);
            var read = ImageFiles.Read(folder[name]);
            Assert.Equal((24, 24), (read.Width, read.Height));
            Assert.Equal(RgbImage.ToByte(expected.Image[1, 12, 12]), RgbImage.ToByte(read[1, 12, 12]));
        }
    }
}
