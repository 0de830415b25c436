namespace Qzo.Compute;

/// <summary>A row-major matrix inside a flat tensor: element (r, c) is Tensor[Offset + r·Stride + c].</summary>
public readonly record struct MatrixView(DeviceTensor Tensor, long Offset, int Stride)
{
    /// <summary>The whole tensor as a matrix with rows of <paramref name="columns"/>.</summary>
    public static MatrixView Of(DeviceTensor tensor, int columns) => new(tensor, 0, columns);

    /// <summary>The sub-matrix whose top-left element is (row, column) of this one.</summary>
    public MatrixView At(int row, int column) => this with { Offset = Offset + (long)row * Stride + column };
}
