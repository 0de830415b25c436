using System.Text.RegularExpressions;
using Qzo.Compute.Cuda.Nvrtc;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.Tests.Quantization;

/// <summary>
/// QZO_GPTQ_FUSED's modes, the measured table's lookup and format, and the host's description of gptq_fused.cu's tiles
/// against the source itself (the kernel runs on the CPU in tests/cuda-emulation and against the CPU on the device).
/// </summary>
public class GptqFusedChoiceTests
{
    static GptqFusedTable Table(params (int Rows, int N, int K, string Kernel)[] entries) =>
        new("test", entries.Select(e => new GptqFusedTable.Entry(e.Rows, e.N, e.K, e.Kernel)).ToList());

    [Fact]
    public void OffIsTheDefaultAndOnTakesTheDefaultTileEverywhere()
    {
        Func<GptqFusedTable> table = () => throw new InvalidOperationException("off and on must not read the table");
        Assert.Null(GptqFusedChoice.Parse(null, table).TileFor(256, 4096, 4096, sequentialGroups: true));
        Assert.Null(GptqFusedChoice.Parse("off", table).TileFor(256, 4096, 4096, true));
        var on = GptqFusedChoice.Parse("on", table);
        Assert.Equal("64x128", on.TileFor(256, 4096, 4096, true)!.Name);
        Assert.Equal("128x128", on.TileFor(4096, 4096, 4096, false)!.Name);
        Assert.Equal("64x64", GptqFusedChoice.Parse("64x64", table).TileFor(4096, 11008, 4096, false)!.Name);
    }

    [Fact]
    public void AnUnknownModeIsRefusedWithTheChoices()
    {
        var e = Assert.Throws<QzoException>(() => GptqFusedChoice.Parse("yes", () => Table()));
        Assert.Contains("QZO_GPTQ_FUSED=yes", e.Message);
        Assert.Contains("off, on, auto or a tile (64x128, 128x128, 64x64)", e.Message);
    }

    [Fact]
    public void AutoTakesTheNearestMeasuredBucketOfTheSameShape()
    {
        var auto = GptqFusedChoice.Parse("auto", () => Table((256, 4096, 4096, "64x128"), (4096, 4096, 4096, "dequantize+cublas"),
                                                             (1024, 11008, 4096, "128x128")));
        Assert.Equal("64x128", auto.TileFor(256, 4096, 4096, true)?.Name);
        Assert.Equal("64x128", auto.TileFor(200, 4096, 4096, true)?.Name);    // bucket 256
        Assert.Equal("64x128", auto.TileFor(1, 4096, 4096, true)?.Name);      // bucket 16: 256 is nearest
        Assert.Null(auto.TileFor(3000, 4096, 4096, true));                    // bucket 4096: cuBLAS measured faster
        Assert.Null(auto.TileFor(2048, 4096, 4096, true));                    // 1 step from 4096, 3 from 256
        Assert.Equal("128x128", auto.TileFor(100_000, 11008, 4096, true)?.Name);
        Assert.Null(auto.TileFor(256, 4096, 11008, true));                    // not measured: cuBLAS
        Assert.Null(auto.TileFor(256, 4096, 4096, sequentialGroups: false));  // act-order is not in the table
    }

    [Fact]
    public void ATieBetweenBucketsGoesToTheLargerOne()
    {
        var table = Table((256, 8, 8, "64x64"), (1024, 8, 8, "128x128"));
        Assert.Equal("128x128", table.Lookup(512, 8, 8));
        Assert.Equal("64x64", table.Lookup(256, 8, 8));
        Assert.Equal(16, GptqFusedTable.Bucket(1));
        Assert.Equal(512, GptqFusedTable.Bucket(257));
    }

    [Fact]
    public void TheTableFormatIsCheckedWithClearErrors()
    {
        var table = GptqFusedTable.Parse("""{"device": "H100", "entries": [{"rows": 256, "n": 4096, "k": 4096, "kernel": "64x128"}]}""",
                                         "t.json");
        Assert.Equal("H100", table.Device);
        Assert.Equal(new GptqFusedTable.Entry(256, 4096, 4096, "64x128"), Assert.Single(table.Entries));
        var bad = Assert.Throws<QzoException>(() => GptqFusedTable.Parse(
            """{"entries": [{"rows": 256, "n": 4096, "k": 4096, "kernel": "fast"}]}""", "t.json"));
        Assert.Contains("t.json: kernel 'fast' is neither dequantize+cublas nor a tile", bad.Message);
        Assert.Contains("t.json: not a GPTQ kernel table", Assert.Throws<QzoException>(() => GptqFusedTable.Parse("{}", "t.json")).Message);
        Assert.Contains("t.json: not a GPTQ kernel table",
                        Assert.Throws<QzoException>(() => GptqFusedTable.Parse("""{"entries": [{"rows": 1}]}""", "t.json")).Message);
    }

    [Fact]
    public void TheShippedTableParses()
    {
        string? saved = Environment.GetEnvironmentVariable(GptqFusedTable.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(GptqFusedTable.EnvironmentVariable, null);
            var table = GptqFusedTable.FromEnvironment();
            Assert.All(table.Entries,
                       e => Assert.True(e.Kernel == GptqFusedChoice.DequantizeGemm || GptqFusedKernel.TileNamed(e.Kernel) is not null));
        }
        finally { Environment.SetEnvironmentVariable(GptqFusedTable.EnvironmentVariable, saved); }
    }

    /// <summary>Each tile's entry points exist; its rows, columns and threads follow the source's template arguments.</summary>
    [Fact]
    public void TheTilesMatchTheCudaSource()
    {
        string source = NvrtcModule.Source("gptq_fused.cu");
        Assert.DoesNotContain("#include", source);
        Assert.Contains("#define BK 64\n", source);      // GptqFusedKernel.StageInputs
        Assert.Contains("#define STAGES 3\n", source);   // GptqFusedKernel.Stages
        foreach (var tile in GptqFusedKernel.Tiles)
            foreach (bool sequential in new[] { true, false })
            {
                string name = tile.Entry(sequential)["gptq_fused_4bit_".Length..];
                var m = Regex.Match(source, $@"\nGPTQ_FUSED_ENTRY\({name}, (\d), (\d), (\d), (\d), {(sequential ? "true" : "false")}\)");
                Assert.True(m.Success, $"no entry {tile.Entry(sequential)}");
                int warpsM = int.Parse(m.Groups[1].Value), warpsN = int.Parse(m.Groups[2].Value);
                int mt = int.Parse(m.Groups[3].Value), nt = int.Parse(m.Groups[4].Value);
                Assert.Equal((warpsM * mt * 16, warpsN * nt * 8, warpsM * warpsN * 32), (tile.Rows, tile.Columns, tile.Threads));
            }
        // FusedLayout<64, 128>: 3 stages of A 64·72·2 + Q 8·128·4 + S 128·4 + Z 64 + G 64·4 bytes, worked by hand
        Assert.Equal(3 * (9216 + 4096 + 512 + 64 + 256), GptqFusedKernel.TileNamed("64x128")!.SharedBytes);
    }

    [Fact]
    public void SequentialGroupSizeIsFoundFromGIdx()
    {
        Assert.Equal(128, GptqKernelShape.SequentialGroupSizeOf(GptqPacking.DefaultGIdx(512, 128), 128));
        Assert.Equal(512, GptqKernelShape.SequentialGroupSizeOf(GptqPacking.DefaultGIdx(512, -1), 512));
        var actOrder = GptqPacking.DefaultGIdx(512, 128);
        (actOrder[3], actOrder[300]) = (actOrder[300], actOrder[3]);
        Assert.Equal(0, GptqKernelShape.SequentialGroupSizeOf(actOrder, 128));
    }
}
