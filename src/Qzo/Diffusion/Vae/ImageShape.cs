namespace Qzo.Diffusion.Vae;

/// <summary>The shape of an NCHW image buffer [batch, channels, height, width] (buffers are flat; shapes travel beside them).</summary>
public readonly record struct ImageShape(int Batch, int Channels, int Height, int Width)
{
    public int Spatial => Height * Width;
    public long Count => (long)Batch * Channels * Height * Width;
    public ImageShape WithChannels(int channels) => this with { Channels = channels };
    public override string ToString() => $"[{Batch}, {Channels}, {Height}, {Width}]";
}
