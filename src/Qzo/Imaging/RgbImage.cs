namespace Qzo.Imaging;

/// <summary>An RGB image as planes [3, height, width] of values in [0, 1] (red plane first).</summary>
public sealed record RgbImage(int Width, int Height, float[] Planes)
{
    public static RgbImage Blank(int width, int height, float value = 0f)
    {
        var planes = new float[3L * width * height];
        Array.Fill(planes, value);
        return new RgbImage(width, height, planes);
    }

    public float this[int channel, int y, int x]
    {
        get => Planes[((long)channel * Height + y) * Width + x];
        set => Planes[((long)channel * Height + y) * Width + x] = value;
    }

    /// <summary>
    /// Image <paramref name="index"/> of a decoder's output [batch, 3, height, width] in [−1, 1], mapped to [0, 1] and
    /// clamped as diffusers' image processor does ((x / 2 + 0.5).clamp(0, 1)).
    /// </summary>
    public static RgbImage FromSigned(ReadOnlySpan<float> batch, int index, int width, int height)
    {
        long size = 3L * width * height;
        var planes = new float[size];
        var source = batch.Slice((int)(index * size), (int)size);
        for (int i = 0; i < planes.Length; i++) planes[i] = Math.Clamp(source[i] / 2 + 0.5f, 0f, 1f);
        return new RgbImage(width, height, planes);
    }

    /// <summary>The 8-bit value of a sample as diffusers' numpy_to_pil rounds it: round(v·255), halves to even.</summary>
    public static byte ToByte(float value) => (byte)Math.Clamp(Math.Round(value * 255.0, MidpointRounding.ToEven), 0, 255);
}
