using System.Text.Json.Nodes;
using Qzo.IO;

namespace Qzo.Imaging;

/// <summary>One picture of <see cref="StyledShapes"/>: the image, its caption and the attributes the caption names.</summary>
public sealed record StyledShape(RgbImage Image, string Caption, string Shape, string Color, string Background);

/// <summary>
/// A synthetic image–caption dataset in one visual style, for the CPU demo and the tests of diffusion fine-tuning: a
/// circle, square, triangle, diamond or stripes in one colour of a fixed five-colour palette on a background of
/// another, always drawn flat with a thick ink outline and an ink frame (the "qzo style"). Captions say what is drawn:
/// "a red circle on a teal background in the qzo style". Picture k depends only on (seed, k), so any count is a prefix
/// of a larger one.
/// </summary>
public static class StyledShapes
{
    public const string StyleWords = "in the qzo style";
    public static IReadOnlyList<string> Shapes { get; } = ["circle", "square", "triangle", "diamond", "stripes"];

    static readonly (string Name, float R, float G, float B)[] Palette =
    [
        ("red", 0.86f, 0.24f, 0.20f), ("yellow", 0.98f, 0.78f, 0.22f), ("teal", 0.16f, 0.60f, 0.58f),
        ("cream", 0.96f, 0.92f, 0.80f), ("blue", 0.20f, 0.34f, 0.72f),
    ];
    static readonly (float R, float G, float B) Ink = (0.11f, 0.09f, 0.16f);
    const int Supersampling = 3;

    public static StyledShape Render(int index, int resolution, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, 8);
        var random = new Random(unchecked((int)(seed * 0x9E3779B1UL) ^ index * 0x3C6EF372));
        string shape = Shapes[random.Next(Shapes.Count)];
        int background = random.Next(Palette.Length);
        int color = (background + 1 + random.Next(Palette.Length - 1)) % Palette.Length;
        double radius = 0.22 + 0.12 * random.NextDouble(); // of the side
        double cx = 0.5 + (random.NextDouble() - 0.5) * (0.9 - 2 * radius), cy = 0.5 + (random.NextDouble() - 0.5) * (0.9 - 2 * radius);
        double angle = random.NextDouble() * Math.PI;
        double outline = 0.035, frame = 0.03;

        var image = RgbImage.Blank(resolution, resolution);
        int n = Supersampling;
        for (int y = 0; y < resolution; y++)
            for (int x = 0; x < resolution; x++)
            {
                float r = 0, g = 0, b = 0;
                for (int sy = 0; sy < n; sy++)
                    for (int sx = 0; sx < n; sx++)
                    {
                        double u = (x + (sx + 0.5) / n) / resolution, v = (y + (sy + 0.5) / n) / resolution;
                        var (pr, pg, pb) = Shade(u, v);
                        r += pr; g += pg; b += pb;
                    }
                image[0, y, x] = r / (n * n);
                image[1, y, x] = g / (n * n);
                image[2, y, x] = b / (n * n);
            }
        string caption = shape == "stripes"
            ? $"{Palette[color].Name} stripes on a {Palette[background].Name} background {StyleWords}"
            : $"a {Palette[color].Name} {shape} on a {Palette[background].Name} background {StyleWords}";
        return new StyledShape(image, caption, shape, Palette[color].Name, Palette[background].Name);

        (float, float, float) Shade(double u, double v)
        {
            if (u < frame || v < frame || u > 1 - frame || v > 1 - frame) return Ink;
            double d = Distance(shape, u - cx, v - cy, radius, angle);
            if (d < -outline) return (Palette[color].R, Palette[color].G, Palette[color].B);
            if (d < 0) return Ink;
            return (Palette[background].R, Palette[background].G, Palette[background].B);
        }
    }

    /// <summary>Signed distance-like value to the shape's edge (negative inside), in units of the image side.</summary>
    static double Distance(string shape, double dx, double dy, double radius, double angle)
    {
        switch (shape)
        {
            case "circle":
                return Math.Sqrt(dx * dx + dy * dy) - radius;
            case "square":
                return Math.Max(Math.Abs(dx), Math.Abs(dy)) - radius * 0.85;
            case "diamond":
                return (Math.Abs(dx) + Math.Abs(dy)) / Math.Sqrt(2) - radius * 0.8;
            case "triangle":
            {   // equilateral, apex up (y grows downwards): the largest of the three edge distances
                double worst = double.MinValue;
                for (int k = 0; k < 3; k++)
                {
                    double a = Math.PI / 2 + k * 2 * Math.PI / 3;
                    worst = Math.Max(worst, dx * Math.Cos(a) + dy * Math.Sin(a) - radius * 0.6);
                }
                return worst;
            }
            default:
            {   // stripes across the whole picture at an angle, each with its outline
                double along = dx * Math.Cos(angle) + dy * Math.Sin(angle);
                double period = 0.32, phase = ((along % period) + period) % period;
                return Math.Abs(phase - period / 2) - period / 4;
            }
        }
    }

    /// <summary>
    /// Writes an ImageFolder as Hugging Face datasets reads it: PNGs 00000.png… and metadata.jsonl with file_name, text
    /// (the caption), shape, color and background per line. <paramref name="folder"/> must exist and be empty.
    /// </summary>
    public static void WriteImageFolder(string folder, int count, int resolution, ulong seed = 0, Action<int>? written = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int digits = Math.Max(5, count.ToString().Length);
        var lines = new string[count];
        int done = 0;
        Parallel.For(0, count, k =>
        {
            var picture = Render(k, resolution, seed);
            string name = $"{k.ToString($"D{digits}")}.png";
            ImageFiles.WritePng(picture.Image, Path.Combine(folder, name));
            lines[k] = new JsonObject
            {
                ["file_name"] = name, ["text"] = picture.Caption, ["shape"] = picture.Shape, ["color"] = picture.Color,
                ["background"] = picture.Background,
            }.ToJsonString();
            written?.Invoke(Interlocked.Increment(ref done));
        });
        AtomicFile.WriteAllText(Path.Combine(folder, "metadata.jsonl"), string.Join("\n", lines) + "\n");
    }
}
