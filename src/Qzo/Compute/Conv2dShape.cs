namespace Qzo.Compute;

/// <summary>The sizes of one <see cref="IBackend.Conv2d"/> call, checked once for every backend.</summary>
readonly record struct Conv2dShape(int Batch, int CIn, int Height, int Width, int COut, int Kernel, int Stride, Padding2d Padding,
                                   int OutHeight, int OutWidth)
{
    public static Conv2dShape Of(int batch, int cIn, int height, int width, int cOut, int kernel, int stride, Padding2d padding)
    {
        if (batch < 0 || cIn <= 0 || height <= 0 || width <= 0 || cOut <= 0 || kernel <= 0 || stride <= 0)
            throw new ArgumentException($"conv2d: invalid sizes batch {batch}, cIn {cIn}, {height}×{width}, cOut {cOut}, " +
                                        $"kernel {kernel}, stride {stride}");
        if (padding.Top < 0 || padding.Bottom < 0 || padding.Left < 0 || padding.Right < 0)
            throw new ArgumentException($"conv2d: negative padding {padding}");
        int paddedHeight = height + padding.Top + padding.Bottom, paddedWidth = width + padding.Left + padding.Right;
        if (paddedHeight < kernel || paddedWidth < kernel)
            throw new ArgumentException($"conv2d: a {kernel}×{kernel} kernel does not fit a padded {paddedHeight}×{paddedWidth} image");
        return new(batch, cIn, height, width, cOut, kernel, stride, padding, (paddedHeight - kernel) / stride + 1,
                   (paddedWidth - kernel) / stride + 1);
    }

    public int PatchLength => checked(CIn * Kernel * Kernel);
    public long InputLength => (long)Batch * CIn * Height * Width;
    public long WeightLength => (long)COut * PatchLength;
    public long OutputLength => (long)Batch * COut * OutHeight * OutWidth;
}
