namespace Qzo.Compute;

static class MatrixBounds
{
    /// <summary>Throws unless rows 0..rows−1 of <paramref name="columns"/> elements of the view lie inside its tensor.</summary>
    public static void Check(MatrixView view, int rows, int columns, string name)
    {
        if (rows < 0 || columns < 0) throw new ArgumentException($"{name}: negative size {rows}×{columns}");
        if (rows == 0 || columns == 0) return;
        long last = view.Offset + (long)(rows - 1) * view.Stride + columns;
        if (view.Offset < 0 || view.Stride < 0 || last > view.Tensor.Length)
            throw new ArgumentException($"{name}: {rows}×{columns} at offset {view.Offset}, stride {view.Stride} does not fit its " +
                                        $"{view.Tensor.Length} elements");
    }
}
