using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Tests.IO;

/// <summary>
/// SafetensorsWriter.WriteLazily (tensors made as the writer reaches them) and ShardedSafetensorsWriter (one file, or
/// shards and their index, as save_pretrained's max_shard_size splits them).
/// </summary>
public class LazySafetensorsWriterTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    static readonly TensorToWrite[] Tensors =
    [
        new("b.weight", DType.F32, [2, 3], DTypes.FromSingle(DType.F32, [1, 2, 3, 4, 5, 6])),
        new("a.bias", DType.BF16, [3], DTypes.FromSingle(DType.BF16, [0.5f, -1, 2])),
        new("c", DType.F32, [4], DTypes.FromSingle(DType.F32, [7, 8, 9, 10])),
    ];

    static List<LazyTensorToWrite> Lazy(List<string>? made = null) =>
        Tensors.Select(t => new LazyTensorToWrite(t.Name, t.DType, t.Shape, () => { made?.Add(t.Name); return t.Data; })).ToList();

    [Fact]
    public void GivesTheBytesOfWriteAndMakesEachTensorOnceInFileOrder()
    {
        SafetensorsWriter.Write(temp.File("eager.safetensors"), Tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var made = new List<string>();
        SafetensorsWriter.WriteLazily(temp.File("lazy.safetensors"), Lazy(made), new Dictionary<string, string> { ["format"] = "pt" });
        Assert.Equal(File.ReadAllBytes(temp.File("eager.safetensors")), File.ReadAllBytes(temp.File("lazy.safetensors")));
        Assert.Equal(["b.weight", "c", "a.bias"], made); // the canonical order: F32 before BF16, then by name
    }

    [Fact]
    public void ATensorMadeWithTheWrongSizeLeavesNoFile()
    {
        var wrong = new LazyTensorToWrite("w", DType.F32, [2], () => new byte[4]);
        Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.WriteLazily(temp.File("out.safetensors"), [wrong]));
        Assert.Empty(temp.FileNames());
        var negative = new LazyTensorToWrite("w", DType.F32, [-2], () => new byte[4]);
        Assert.Contains("negative", Assert.Throws<QzoException>(() =>
            SafetensorsWriter.WriteLazily(temp.File("out.safetensors"), [negative])).Message);
    }

    [Fact]
    public void MakingAheadGivesTheSameBytesMakesEachTensorOnceInOrderAndOnlyOneAhead()
    {
        SafetensorsWriter.WriteLazily(temp.File("plain.safetensors"), Lazy());
        var made = new List<string>();
        int making = 0, most = 0;
        var lazy = Tensors.Select(t => new LazyTensorToWrite(t.Name, t.DType, t.Shape, () =>
        {
            most = Math.Max(most, Interlocked.Increment(ref making));
            lock (made) made.Add(t.Name);
            Thread.Sleep(20);
            Interlocked.Decrement(ref making);
            return t.Data;
        })).ToList();
        SafetensorsWriter.WriteLazily(temp.File("ahead.safetensors"), lazy, makeAhead: true);
        Assert.Equal(File.ReadAllBytes(temp.File("plain.safetensors")), File.ReadAllBytes(temp.File("ahead.safetensors")));
        Assert.Equal(["b.weight", "c", "a.bias"], made);
        Assert.Equal(1, most);
    }

    [Fact]
    public void MakingAheadATensorThatFailsSurfacesItsOwnErrorAndLeavesNoFile()
    {
        var made = new List<string>();
        var lazy = Lazy(made);
        lazy[2] = lazy[2] with { Data = () => throw new QzoException("c cannot be made") }; // "c" comes second in the file
        var e = Assert.Throws<QzoException>(() => SafetensorsWriter.WriteLazily(temp.File("out.safetensors"), lazy, makeAhead: true));
        Assert.Equal("c cannot be made", e.Message);
        Assert.Equal(["b.weight"], made);
        Assert.Empty(temp.FileNames());
        ShardedSafetensorsWriter.Write(temp.Path, "model", Lazy(), maxShardBytes: 30, makeAhead: true);
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"],
                     temp.FileNames());
    }

    [Fact]
    public void ShardsWhereTheNextTensorWouldOverflowAndIndexesThem()
    {
        ShardedSafetensorsWriter.Write(temp.Path, "diffusion_pytorch_model", Lazy(), maxShardBytes: 30);
        Assert.Equal(["diffusion_pytorch_model-00001-of-00002.safetensors", "diffusion_pytorch_model-00002-of-00002.safetensors",
                      "diffusion_pytorch_model.safetensors.index.json"], temp.FileNames());
        var map = ShardedIndex.ReadWeightMap(temp.File("diffusion_pytorch_model.safetensors.index.json"));
        Assert.Equal("diffusion_pytorch_model-00001-of-00002.safetensors", map["b.weight"]);
        Assert.Equal("diffusion_pytorch_model-00001-of-00002.safetensors", map["a.bias"]); // 24 + 6 bytes fit in 30
        Assert.Equal("diffusion_pytorch_model-00002-of-00002.safetensors", map["c"]);
        Assert.Contains("\"total_size\": 46", File.ReadAllText(temp.File("diffusion_pytorch_model.safetensors.index.json")));
        using var tensors = CheckpointTensors.Open(temp.Path);
        Assert.Equal(["a.bias", "b.weight", "c"], tensors.Names);
    }

    [Fact]
    public void WritesOneFileWhenEverythingFitsInOneShard()
    {
        ShardedSafetensorsWriter.Write(temp.Path, "model", Lazy(), maxShardBytes: 1 << 20);
        Assert.Equal(["model.safetensors"], temp.FileNames());
        ShardedSafetensorsWriter.Write(temp.Path, "other", Lazy(), maxShardBytes: null);
        Assert.Equal(["model.safetensors", "other.safetensors"], temp.FileNames());
    }

    [Fact]
    public void DrawGivesTheValuesOfFill()
    {
        var expected = new float[200_003];
        GaussianDirection.Fill(42, 7, 0, expected);
        Assert.Equal(expected, GaussianDirection.Draw(42, 7, expected.Length));
    }
}
