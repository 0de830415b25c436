namespace Qzo.Diffusion.Sd3;

/// <summary>
/// The 2-D sin-cos positional table of diffusers' PatchEmbed (get_2d_sincos_pos_embed), which SD3 checkpoints store as
/// pos_embed.pos_embed [1, M², D], and the centre crop a latent of h×w patches reads from it.
/// </summary>
public static class Sd3PositionTable
{
    /// <summary>
    /// Row n = i·M + j of the M×M grid (i the patch row, j the column). Positions are i / (M / base) in fp32, as
    /// diffusers' arange(float32) / (M / base) gives them; the rest is float64 and rounded to fp32 once at the end.
    /// Channels [0, D/2) encode the column and [D/2, D) the row (meshgrid(grid_w, grid_h, indexing="xy") puts w first);
    /// each half is [sin(p·ω_k), cos(p·ω_k)] for ω_k = 1 / 10000^(k / (D/4)), k &lt; D/4.
    /// </summary>
    public static float[] Compute(int dim, int gridSize, int baseSize)
    {
        if (dim % 4 != 0) throw new ArgumentException($"the table's width {dim} must be a multiple of 4", nameof(dim));
        int quarter = dim / 4;
        var omega = new double[quarter];
        for (int k = 0; k < quarter; k++) omega[k] = 1.0 / Math.Pow(10000, k / (dim / 4.0));
        float step = (float)((double)gridSize / baseSize);
        var positions = new float[gridSize];
        for (int i = 0; i < gridSize; i++) positions[i] = i / step;

        var table = new float[(long)gridSize * gridSize * dim];
        for (int i = 0; i < gridSize; i++)
            for (int j = 0; j < gridSize; j++)
            {
                var row = table.AsSpan((int)(((long)i * gridSize + j) * dim), dim);
                Encode(positions[j], omega, row[..(dim / 2)]);
                Encode(positions[i], omega, row[(dim / 2)..]);
            }
        return table;
    }

    static void Encode(double position, double[] omega, Span<float> half)
    {
        int quarter = omega.Length;
        for (int k = 0; k < quarter; k++)
        {
            double angle = position * omega[k];
            half[k] = (float)Math.Sin(angle);
            half[quarter + k] = (float)Math.Cos(angle);
        }
    }

    /// <summary>
    /// Where PatchEmbed.cropped_pos_embed cuts an h×w patch grid out of the M×M table: top = (M − h) // 2,
    /// left = (M − w) // 2, so an odd margin leaves the extra row or column at the bottom or right.
    /// </summary>
    public static (int Top, int Left) CropOffsets(int gridSize, int patchRows, int patchColumns, string source)
    {
        if (patchRows > gridSize || patchColumns > gridSize)
            throw new QzoException($"{source}: a latent of {patchRows}×{patchColumns} patches does not fit pos_embed_max_size " +
                                   $"{gridSize} (at most {gridSize}×{gridSize} patches)");
        return ((gridSize - patchRows) / 2, (gridSize - patchColumns) / 2);
    }
}
