namespace Qzo.Imaging;

/// <summary>Several images of one size side by side in a grid, with a gap between them, on a white sheet.</summary>
public static class ContactSheet
{
    public static RgbImage Compose(IReadOnlyList<RgbImage> images, int columns, int gap = 8)
    {
        if (images.Count == 0) throw new ArgumentException("no images", nameof(images));
        int width = images[0].Width, height = images[0].Height;
        if (images.Any(i => i.Width != width || i.Height != height))
            throw new ArgumentException("the images of a contact sheet must have one size", nameof(images));
        columns = Math.Clamp(columns, 1, images.Count);
        int rows = (images.Count + columns - 1) / columns;
        var sheet = RgbImage.Blank(columns * width + (columns + 1) * gap, rows * height + (rows + 1) * gap, 1f);
        for (int n = 0; n < images.Count; n++)
        {
            int left = gap + n % columns * (width + gap), top = gap + n / columns * (height + gap);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++) sheet[c, top + y, left + x] = images[n][c, y, x];
        }
        return sheet;
    }
}
