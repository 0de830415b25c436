namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// Which product serves a GPTQ linear on CUDA, from QZO_GPTQ_FUSED: off (the default: dequantize into the weight scratch,
/// then cuBLAS), on (the fused kernel wherever it applies, <see cref="DefaultTile"/>), auto (the measured
/// <see cref="GptqFusedTable"/>; a linear with act-order g_idx, which the table does not cover, keeps cuBLAS) or a tile name
/// (that tile wherever the kernel applies). Either way the fused kernel serves 4-bit linears only.
/// </summary>
sealed class GptqFusedChoice
{
    public const string EnvironmentVariable = "QZO_GPTQ_FUSED";
    public const string DequantizeGemm = "dequantize+cublas";

    readonly string _mode;
    readonly GptqFusedKernel.Tile? _forced;
    readonly Lazy<GptqFusedTable>? _table;

    GptqFusedChoice(string mode, GptqFusedKernel.Tile? forced, Lazy<GptqFusedTable>? table)
    {
        _mode = mode;
        _forced = forced;
        _table = table;
    }

    public static GptqFusedChoice Off { get; } = new("off", null, null);

    public static GptqFusedChoice FromEnvironment() =>
        Parse(Environment.GetEnvironmentVariable(EnvironmentVariable), GptqFusedTable.FromEnvironment);

    /// <param name="table">read on the first lookup in auto mode</param>
    public static GptqFusedChoice Parse(string? value, Func<GptqFusedTable> table)
    {
        string mode = string.IsNullOrEmpty(value) ? "off" : value.Trim().ToLowerInvariant();
        return mode switch
        {
            "off" => Off,
            "on" => new GptqFusedChoice(mode, null, null),
            "auto" => new GptqFusedChoice(mode, null, new Lazy<GptqFusedTable>(table)),
            _ => GptqFusedKernel.TileNamed(mode) is { } tile ? new GptqFusedChoice(mode, tile, null)
                : throw new QzoException($"{EnvironmentVariable}={value}: expected off, on, auto or a tile " +
                                         $"({string.Join(", ", GptqFusedKernel.Tiles.Select(t => t.Name))})"),
        };
    }

    /// <summary>off, on, auto or the forced tile's name.</summary>
    public override string ToString() => _mode;

    /// <summary>The unmeasured default of `on`: the smaller tile up to 512 rows (more blocks), the larger above.</summary>
    public static GptqFusedKernel.Tile DefaultTile(int rows) => GptqFusedKernel.Tiles[rows <= 512 ? 0 : 1];

    /// <summary>The tile for rows × (k → n), or null for dequantize + cuBLAS.</summary>
    public GptqFusedKernel.Tile? TileFor(int rows, int n, int k, bool sequentialGroups)
    {
        if (_forced is not null) return _forced;
        if (_mode == "on") return DefaultTile(rows);
        if (_table is null || !sequentialGroups) return null;
        string? kernel = _table.Value.Lookup(rows, n, k);
        return kernel is null || kernel == DequantizeGemm ? null : GptqFusedKernel.TileNamed(kernel);
    }
}
