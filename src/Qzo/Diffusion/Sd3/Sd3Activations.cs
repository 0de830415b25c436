using Qzo.Compute;

namespace Qzo.Diffusion.Sd3;

/// <summary>
/// The activations of one transformer forward pass over <see cref="Batch"/> samples of <see cref="ImageTokens"/> patches
/// and <see cref="TextTokens"/> text tokens, all in the compute type and reused block after block (nothing is kept for a
/// backward pass). Image-sized buffers are [batch, n, D], text-sized [batch, t, D], joint ones [batch, n + t, D].
/// </summary>
sealed class Sd3Activations : IDisposable
{
    readonly List<DeviceTensor> _all = [];

    public Sd3Activations(IBackend backend, Sd3TransformerConfig c, int batch, int imageTokens, int textTokens)
    {
        Batch = batch; ImageTokens = imageTokens; TextTokens = textTokens;
        long d = c.InnerDim, image = (long)batch * imageTokens * d, text = (long)batch * textTokens * d;
        long joint = image + text;
        DeviceTensor Take(long length)
        {
            var tensor = backend.Allocate(backend.ComputeType, length, MemoryCategory.Activations);
            _all.Add(tensor);
            return tensor;
        }
        try
        {
            Image = Take(image); ImageNormed = Take(image); ImageNormed2 = Take(image); ImageScratch = Take(image);
            Text = Take(text); TextNormed = Take(text); TextScratch = Take(text);
            Q = Take(joint); K = Take(joint); V = Take(joint); Attended = Take(joint);
            Hidden = Take(4 * d * batch * Math.Max(imageTokens, textTokens));
            Modulation = Take(9 * d * batch); ContextModulation = Take(6 * d * batch);
            Temb = Take(d * batch); SiluTemb = Take(d * batch);
        }
        catch { Dispose(); throw; }
    }

    public int Batch { get; }
    public int ImageTokens { get; }
    public int TextTokens { get; }

    /// <summary>The image stream x (hidden_states).</summary>
    public DeviceTensor Image { get; } = null!;
    /// <summary>The modulated LN(x) a block attends from; afterwards the image-side outputs it adds to x.</summary>
    public DeviceTensor ImageNormed { get; } = null!;
    /// <summary>LN(x) of the block's input, then a dual block's attn2 input.</summary>
    public DeviceTensor ImageNormed2 { get; } = null!;
    public DeviceTensor ImageScratch { get; } = null!;
    /// <summary>The text stream c (encoder_hidden_states).</summary>
    public DeviceTensor Text { get; } = null!;
    public DeviceTensor TextNormed { get; } = null!;
    public DeviceTensor TextScratch { get; } = null!;
    public DeviceTensor Q { get; } = null!;
    public DeviceTensor K { get; } = null!;
    public DeviceTensor V { get; } = null!;
    public DeviceTensor Attended { get; } = null!;
    /// <summary>The feed-forward's inner activation [rows, 4D].</summary>
    public DeviceTensor Hidden { get; } = null!;
    /// <summary>A block's norm1 output [batch, 6D or 9D], or norm_out's [batch, 2D].</summary>
    public DeviceTensor Modulation { get; } = null!;
    public DeviceTensor ContextModulation { get; } = null!;
    public DeviceTensor Temb { get; } = null!;
    /// <summary>SiLU(temb), the input of every adaptive norm's linear.</summary>
    public DeviceTensor SiluTemb { get; } = null!;

    public bool Fits(int batch, int imageTokens, int textTokens) =>
        batch == Batch && imageTokens == ImageTokens && textTokens == TextTokens;

    public void Dispose()
    {
        foreach (var tensor in _all) tensor.Dispose();
        _all.Clear();
    }
}
