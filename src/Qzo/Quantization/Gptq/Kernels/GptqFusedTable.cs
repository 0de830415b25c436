using System.Text.Json;

namespace Qzo.Quantization.Gptq.Kernels;

/// <summary>
/// The measured choice, per shape, between the fused GPTQ kernel and dequantize + cuBLAS (QZO_GPTQ_FUSED=auto): entries
/// (rows, n, k) → kernel, where kernel is <see cref="GptqFusedChoice.DequantizeGemm"/> or a tile of <see cref="GptqFusedKernel"/>.
/// The shipped table is gptq_fused_table.json beside this file, filled from `qzo-device kernels GptqFused` (docs/kernels.md);
/// QZO_GPTQ_FUSED_TABLE=FILE reads another. A call's rows are looked up by power-of-two bucket (at least 16) among the entries
/// of its (n, k): the nearest measured bucket, the larger on a tie; a shape without entries takes dequantize + cuBLAS.
/// </summary>
sealed class GptqFusedTable(string device, IReadOnlyList<GptqFusedTable.Entry> entries)
{
    public const string EnvironmentVariable = "QZO_GPTQ_FUSED_TABLE";

    public sealed record Entry(int Rows, int N, int K, string Kernel);

    /// <summary>The GPU the table was measured on (informational).</summary>
    public string Device { get; } = device;
    public IReadOnlyList<Entry> Entries { get; } = entries;

    public static GptqFusedTable FromEnvironment()
    {
        string? file = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(file))
        {
            using var stream = typeof(GptqFusedTable).Assembly.GetManifestResourceStream("Qzo.Gptq.gptq_fused_table.json")
                ?? throw new InvalidOperationException("gptq_fused_table.json is not embedded in the assembly");
            return Parse(new StreamReader(stream).ReadToEnd(), "gptq_fused_table.json");
        }
        try { return Parse(File.ReadAllText(file), file); }
        catch (IOException e) { throw new QzoException($"{EnvironmentVariable}={file}: {e.Message}"); }
    }

    /// <summary>{"device": "...", "entries": [{"rows": 256, "n": 4096, "k": 4096, "kernel": "64x128"}, ...]}</summary>
    public static GptqFusedTable Parse(string json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            string device = root.TryGetProperty("device", out var d) ? d.GetString() ?? "" : "";
            var entries = new List<Entry>();
            foreach (var e in root.GetProperty("entries").EnumerateArray())
            {
                var entry = new Entry(e.GetProperty("rows").GetInt32(), e.GetProperty("n").GetInt32(), e.GetProperty("k").GetInt32(),
                                      e.GetProperty("kernel").GetString() ?? "");
                if (entry.Rows < 1 || entry.N < 1 || entry.K < 1) throw new QzoException($"{source}: {entry} has a size below 1");
                if (entry.Kernel != GptqFusedChoice.DequantizeGemm && GptqFusedKernel.TileNamed(entry.Kernel) is null)
                    throw new QzoException($"{source}: kernel '{entry.Kernel}' is neither {GptqFusedChoice.DequantizeGemm} nor a tile " +
                                           $"({string.Join(", ", GptqFusedKernel.Tiles.Select(t => t.Name))})");
                entries.Add(entry);
            }
            return new GptqFusedTable(device, entries);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new QzoException($"{source}: not a GPTQ kernel table ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>The smallest power of two at or above rows, at least 16.</summary>
    public static int Bucket(int rows) => (int)Math.Max(16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(rows, 1)));

    /// <summary>The measured kernel for <paramref name="rows"/> × (k → n), or null when (n, k) was not measured.</summary>
    public string? Lookup(int rows, int n, int k)
    {
        int bucket = System.Numerics.BitOperations.Log2((uint)Bucket(rows));
        Entry? best = null;
        int bestDistance = int.MaxValue;
        foreach (var e in Entries)
        {
            if (e.N != n || e.K != k) continue;
            int eBucket = System.Numerics.BitOperations.Log2((uint)Bucket(e.Rows)), distance = Math.Abs(eBucket - bucket);
            if (distance < bestDistance || distance == bestDistance && e.Rows > best!.Rows) (best, bestDistance) = (e, distance);
        }
        return best?.Kernel;
    }
}
