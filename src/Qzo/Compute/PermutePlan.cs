namespace Qzo.Compute;

/// <summary>
/// y = x.permute(order) for a row-major x of <c>shape</c>: y's shape, and for each of y's axes the stride in x of one
/// step along it. Checked once for every backend.
/// </summary>
readonly record struct PermutePlan(int[] OutShape, long[] SourceStrides, long Count)
{
    public static PermutePlan Of(int[] shape, int[] order)
    {
        int rank = shape.Length;
        if (rank is < 1 or > 6 || order.Length != rank)
            throw new ArgumentException($"permute: shape [{string.Join(", ", shape)}] and order [{string.Join(", ", order)}] " +
                                        "must have one to six axes each");
        if (order.Order().Where((axis, i) => axis != i).Any())
            throw new ArgumentException($"permute: [{string.Join(", ", order)}] is not an order of {rank} axes");
        if (shape.Any(n => n < 0)) throw new ArgumentException($"permute: negative size in [{string.Join(", ", shape)}]");
        var strides = new long[rank];
        long stride = 1;
        for (int a = rank - 1; a >= 0; a--) { strides[a] = stride; stride *= shape[a]; }
        return new(order.Select(a => shape[a]).ToArray(), order.Select(a => strides[a]).ToArray(), stride);
    }
}
