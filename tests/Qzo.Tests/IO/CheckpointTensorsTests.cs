using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Tests.IO;

public class CheckpointTensorsTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    const string Shard1 = "model-00001-of-00002.safetensors";
    const string Shard2 = "model-00002-of-00002.safetensors";

    static TensorToWrite F32(string name, params float[] values) =>
        new(name, DType.F32, [values.Length], DTypes.FromSingle(DType.F32, values));

    void WriteFile(string fileName, params TensorToWrite[] tensors) => SafetensorsWriter.Write(temp.File(fileName), tensors);

    void WriteShardedCheckpoint()
    {
        WriteFile(Shard1, F32("model.embed_tokens.weight", 1, 2), F32("model.layers.0.mlp.weight", 3));
        WriteFile(Shard2, F32("lm_head.weight", 4, 5, 6),
            new TensorToWrite("model.layers.0.qweight", DType.I32, [1], BitConverter.GetBytes(42)));
        ShardedIndexWriter.Write(temp.Path, new Dictionary<string, string>
        {
            ["model.embed_tokens.weight"] = Shard1, ["model.layers.0.mlp.weight"] = Shard1,
            ["lm_head.weight"] = Shard2, ["model.layers.0.qweight"] = Shard2,
        }, totalSize: 28);
    }

    QzoException OpenFails(params string[] named)
    {
        var e = Assert.Throws<QzoException>(() => CheckpointTensors.Open(temp.Path));
        foreach (var part in named) Assert.Contains(part, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void DiffusersComponentsKeepTheirWeightsInDiffusionPytorchModelFiles()
    {
        // A sharded diffusers transformer (SD3.5 Large's transformer/ has two shards and this index), beside an unrelated
        // single file that must not be picked.
        WriteFile("diffusion_pytorch_model-00001-of-00002.safetensors", F32("pos_embed.pos_embed", 1, 2));
        WriteFile("diffusion_pytorch_model-00002-of-00002.safetensors", F32("proj_out.weight", 3));
        File.WriteAllText(temp.File("diffusion_pytorch_model.safetensors.index.json"), """
            {"metadata": {"total_size": 12}, "weight_map": {
              "pos_embed.pos_embed": "diffusion_pytorch_model-00001-of-00002.safetensors",
              "proj_out.weight": "diffusion_pytorch_model-00002-of-00002.safetensors"}}
            """);
        using var sharded = CheckpointTensors.Open(temp.Path);
        Assert.Equal(["pos_embed.pos_embed", "proj_out.weight"], sharded.Names);
        Assert.EndsWith("diffusion_pytorch_model.safetensors.index.json", sharded.IndexPath);

        WriteFile("diffusion_pytorch_model.safetensors", F32("conv_in.weight", 5));
        using var single = CheckpointTensors.Open(temp.Path);
        Assert.Equal(["conv_in.weight"], single.Names);
    }

    [Fact]
    public void AComponentFolderOpensWithoutALanguageModelConfig()
    {
        WriteFile("diffusion_pytorch_model.safetensors", F32("conv_in.weight", 5));
        File.WriteAllText(temp.File("config.json"), """{"_class_name": "AutoencoderKL", "latent_channels": 16}""");
        using var component = Qzo.Models.Checkpoint.OpenComponent(temp.Path);
        Assert.Equal(16, component.ConfigJson.RequireInt("latent_channels"));
        Assert.Null(component.Quantization);
        Assert.Throws<InvalidOperationException>(() => component.Config);
        // As a language model it is refused by name.
        var e = Assert.Throws<QzoException>(() => Qzo.Models.Checkpoint.Open(temp.Path));
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void SingleModelSafetensors()
    {
        WriteFile("model.safetensors", F32("b", 2), F32("a", 1), F32("B", 3));
        using var checkpoint = CheckpointTensors.Open(temp.Path);

        Assert.Null(checkpoint.IndexPath);
        Assert.Equal(["B", "a", "b"], checkpoint.Names);
        Assert.Single(checkpoint.Files);
        Assert.Equal([1f], checkpoint.ReadFloat32("a"));
        Assert.Same(checkpoint.Files[0], checkpoint.FileOf("b"));
        Assert.Equal(DType.F32, checkpoint.Get("B").DType);
        Assert.True(checkpoint.Contains("a"));
        Assert.False(checkpoint.Contains("c"));
        var e = Assert.Throws<QzoException>(() => checkpoint.Get("c"));
        Assert.Contains("'c'", e.Message);
        Assert.Contains(temp.Path, e.Message);
    }

    [Fact]
    public void ModelSafetensorsWinsOverOtherFiles()
    {
        WriteFile("model.safetensors", F32("a", 1));
        WriteFile("other.safetensors", F32("a", 2));
        using var checkpoint = CheckpointTensors.Open(temp.Path);
        Assert.Equal([1f], checkpoint.ReadFloat32("a"));
    }

    [Fact]
    public void OneOtherSafetensorsFileAsOlderGptqReposHave()
    {
        WriteFile("gptq_model-4bit-128g.safetensors", new TensorToWrite("q", DType.I32, [2], new byte[8]));
        using var checkpoint = CheckpointTensors.Open(temp.Path);
        Assert.Equal(["q"], checkpoint.Names);
        Assert.Equal([0, 0], checkpoint.ReadInt32("q"));
        Assert.EndsWith("gptq_model-4bit-128g.safetensors", checkpoint.Files[0].Path);
    }

    [Fact]
    public void DiffusersSingleFileWinsOverOtherFiles()
    {
        WriteFile(CheckpointTensors.DiffusersFileName, F32("proj_out.bias", 1));
        WriteFile("sd3.5_large.safetensors", F32("proj_out.bias", 2));
        using var checkpoint = CheckpointTensors.Open(temp.Path);
        Assert.Equal([1f], checkpoint.ReadFloat32("proj_out.bias"));
    }

    [Fact]
    public void SeveralOtherSafetensorsFilesWithoutAnIndex()
    {
        WriteFile("a.safetensors", F32("x", 1));
        WriteFile("b.safetensors", F32("y", 1));
        OpenFails("a.safetensors", "b.safetensors", ShardedIndex.FileName);
    }

    [Fact]
    public void ShardedWithIndex()
    {
        WriteShardedCheckpoint();
        using var checkpoint = CheckpointTensors.Open(temp.Path);

        Assert.Equal(temp.File(ShardedIndex.FileName), checkpoint.IndexPath);
        Assert.Equal(["lm_head.weight", "model.embed_tokens.weight", "model.layers.0.mlp.weight", "model.layers.0.qweight"],
            checkpoint.Names);
        Assert.Equal([Shard1, Shard2], checkpoint.Files.Select(f => Path.GetFileName(f.Path)));
        Assert.EndsWith(Shard2, checkpoint.FileOf("lm_head.weight").Path);
        Assert.EndsWith(Shard1, checkpoint.FileOf("model.layers.0.mlp.weight").Path);
        Assert.Equal([4f, 5f, 6f], checkpoint.ReadFloat32("lm_head.weight"));
        Assert.Equal([42], checkpoint.ReadInt32("model.layers.0.qweight"));
    }

    [Fact]
    public void IndexMetadataKeysBesidesTotalSizeAreIgnored()
    {
        WriteFile(Shard1, F32("a", 1));
        File.WriteAllText(temp.File(ShardedIndex.FileName),
            $"{{\"metadata\":{{\"total_parameters\":1,\"total_size\":4,\"format\":\"x\"}},\"weight_map\":{{\"a\":\"{Shard1}\"}}}}");
        using var checkpoint = CheckpointTensors.Open(temp.Path);
        Assert.Equal(["a"], checkpoint.Names);
    }

    [Fact]
    public void IndexNamingAMissingShard()
    {
        WriteShardedCheckpoint();
        File.Delete(temp.File(Shard2));
        OpenFails(ShardedIndex.FileName, Shard2, "not found");
    }

    [Fact]
    public void IndexNamingATensorTheShardLacks()
    {
        WriteShardedCheckpoint();
        WriteFile(Shard2, F32("lm_head.weight", 4, 5, 6));
        OpenFails(ShardedIndex.FileName, "'model.layers.0.qweight'", Shard2);
    }

    [Fact]
    public void SameTensorInTwoShards()
    {
        WriteShardedCheckpoint();
        WriteFile(Shard2, F32("lm_head.weight", 4, 5, 6), new TensorToWrite("model.layers.0.qweight", DType.I32, [1], new byte[4]),
            F32("model.embed_tokens.weight", 9, 9));
        OpenFails("'model.embed_tokens.weight'", Shard1, Shard2, "twice");
    }

    [Fact]
    public void MalformedIndex()
    {
        File.WriteAllText(temp.File(ShardedIndex.FileName), "{\"metadata\":{}}");
        OpenFails(ShardedIndex.FileName, "weight_map");
    }

    [Fact]
    public void FolderWithoutSafetensors()
    {
        File.WriteAllText(temp.File("config.json"), "{}");
        WriteFile("model.safetensors.tmp-1234", F32("a", 1)); // a leftover temp file is not a checkpoint
        OpenFails(temp.Path, "no safetensors");
    }

    [Fact]
    public void FolderNotFound()
    {
        string missing = temp.File("nope");
        var e = Assert.Throws<QzoException>(() => CheckpointTensors.Open(missing));
        Assert.Contains(missing, e.Message);
    }
}
