using Qzo.Diffusion.Sd3;

namespace Qzo.Tests.Diffusion;

/// <summary>The positional table, its crop, and the timestep sinusoid of <see cref="Sd3Transformer"/>.</summary>
public class Sd3EmbeddingTests
{
    /// <summary>
    /// diffusers' get_2d_sincos_pos_embed(embed_dim, grid_size, base_size, interpolation_scale=1, output_type="pt") as
    /// written there, step by step: fp32 grids, meshgrid(grid_w, grid_h, indexing="xy"), stack, reshape [2, 1, W, H],
    /// get_1d_sincos_pos_embed_from_grid on each half in float64 ([sin, cos] of outer(pos, ω)), concat, .float().
    /// </summary>
    static float[] Transcription(int embedDim, int gridSize, int baseSize)
    {
        var gridH = Enumerable.Range(0, gridSize).Select(i => (float)i / (float)(gridSize / (double)baseSize) / 1f).ToArray();
        var gridW = gridH.ToArray();
        var grid0 = new float[gridSize * gridSize]; var grid1 = new float[gridSize * gridSize];
        for (int i = 0; i < gridSize; i++)
            for (int j = 0; j < gridSize; j++) { grid0[i * gridSize + j] = gridW[j]; grid1[i * gridSize + j] = gridH[i]; }
        double[][] OneD(int dim, float[] pos)
        {
            var omega = Enumerable.Range(0, dim / 2).Select(k => (double)k).ToArray();
            for (int k = 0; k < omega.Length; k++) omega[k] /= dim / 2.0;
            for (int k = 0; k < omega.Length; k++) omega[k] = 1.0 / Math.Pow(10000, omega[k]);
            return pos.Select(p => omega.Select(w => Math.Sin(p * w)).Concat(omega.Select(w => Math.Cos(p * w))).ToArray()).ToArray();
        }
        var embH = OneD(embedDim / 2, grid0);
        var embW = OneD(embedDim / 2, grid1);
        return embH.Zip(embW, (h, w) => h.Concat(w)).SelectMany(r => r).Select(v => (float)v).ToArray();
    }

    [Theory]
    [InlineData(16, 12, 4)]   // the parity fixture: sample_size 8, patch 2, pos_embed_max_size 12
    [InlineData(64, 24, 8)]
    [InlineData(32, 10, 4)]   // M / base = 2.5
    [InlineData(24, 7, 3)]    // M / base inexact in binary
    public void TheTableIsDiffusersFormulaBitForBit(int dim, int gridSize, int baseSize) =>
        Assert.Equal(Transcription(dim, gridSize, baseSize), Sd3PositionTable.Compute(dim, gridSize, baseSize));

    [Fact]
    public void TheFirstHalfEncodesTheColumnAndTheSecondTheRow()
    {
        const int dim = 16, m = 12;
        var table = Sd3PositionTable.Compute(dim, m, baseSize: 4); // positions i / 3
        var rowZeroColumnThree = table.AsSpan(3 * dim, dim);       // token n = 0·12 + 3: column position 1, row position 0
        Assert.Equal(0.84147098f, rowZeroColumnThree[0], 6);       // sin(1·ω₀), ω₀ = 1
        Assert.Equal(0.54030231f, rowZeroColumnThree[4], 6);       // cos(1·ω₀)
        Assert.Equal(MathF.Sin(0.1f), rowZeroColumnThree[1], 6);   // ω₁ = 10000^(−1/4) = 0.1
        Assert.Equal(0f, rowZeroColumnThree[8]);                  // the row half: sin(0), cos(0)
        Assert.Equal(1f, rowZeroColumnThree[12]);
        var rowThreeColumnZero = table.AsSpan(3 * m * dim, dim);
        Assert.Equal(0.84147098f, rowThreeColumnZero[8], 6);
        Assert.Equal(0f, rowThreeColumnZero[0]);
    }

    [Theory]
    [InlineData(12, 5, 5, 3, 3)]       // a 10×10 latent in the fixture's 12×12 table: 3 rows above, 4 below
    [InlineData(12, 4, 4, 4, 4)]
    [InlineData(12, 3, 5, 4, 3)]       // 6×10
    [InlineData(12, 12, 12, 0, 0)]
    [InlineData(192, 32, 32, 80, 80)]  // SD3.5 Large at 512²
    [InlineData(384, 32, 32, 176, 176)] // SD3.5 Medium at 512²
    [InlineData(192, 64, 48, 64, 72)]
    public void TheCropIsCentredAsDiffusersFloorsIt(int m, int rows, int columns, int top, int left) =>
        Assert.Equal((top, left), Sd3PositionTable.CropOffsets(m, rows, columns, "model"));

    [Theory]
    [InlineData(13, 5)]
    [InlineData(5, 13)]
    public void ALatentLargerThanTheTableIsRefused(int rows, int columns)
    {
        var e = Assert.Throws<QzoException>(() => Sd3PositionTable.CropOffsets(12, rows, columns, "model"));
        Assert.Equal($"model: a latent of {rows}×{columns} patches does not fit pos_embed_max_size 12 (at most 12×12 patches)",
                     e.Message);
    }

    [Fact]
    public void TheTimestepSinusoidIsCosThenSin()
    {
        var rows = Sd3TimestepSinusoid.Compute([0f, 12.3f, 937.5f]);
        Assert.Equal(3 * 256, rows.Length);
        Assert.All(rows.AsSpan(0, 128).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(rows.AsSpan(128, 128).ToArray(), v => Assert.Equal(0f, v));
        for (int b = 1; b < 3; b++)
        {
            double t = b == 1 ? 12.3 : 937.5;
            for (int i = 0; i < 128; i++)
            {
                double angle = t * Math.Exp(-Math.Log(10000) * i / 128);
                // fp32 frequencies and products: the angle is good to a few ulps of t
                double tolerance = 4 * t * 6e-8;
                Assert.Equal(Math.Cos(angle), rows[b * 256 + i], tolerance);
                Assert.Equal(Math.Sin(angle), rows[b * 256 + 128 + i], tolerance);
            }
        }
        Assert.Equal((float)Math.Cos(12.3f), rows[256]); // frequency 1: the angle is t itself
        Assert.Equal((float)Math.Sin(12.3f), rows[256 + 128]);
    }
}
