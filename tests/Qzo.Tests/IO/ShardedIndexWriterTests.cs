using Qzo.IO;

namespace Qzo.Tests.IO;

public class ShardedIndexWriterTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    [Fact]
    public void WritesWhatTransformersSavePretrainedWrites()
    {
        // json.dumps(index, indent=2, sort_keys=True) + "\n", with Python's default ensure_ascii=True.
        ShardedIndexWriter.Write(temp.Path, new Dictionary<string, string>
        {
            ["model.norm.weight"] = "model-00002-of-00002.safetensors",
            ["lm_head.weight"] = "model-00002-of-00002.safetensors",
            ["model.embed_tokens.weight"] = "model-00001-of-00002.safetensors",
            ["é"] = "model-00001-of-00002.safetensors",
        }, totalSize: 1234567890123);

        string expected =
            "{\n" +
            "  \"metadata\": {\n" +
            "    \"total_size\": 1234567890123\n" +
            "  },\n" +
            "  \"weight_map\": {\n" +
            "    \"lm_head.weight\": \"model-00002-of-00002.safetensors\",\n" +
            "    \"model.embed_tokens.weight\": \"model-00001-of-00002.safetensors\",\n" +
            "    \"model.norm.weight\": \"model-00002-of-00002.safetensors\",\n" +
            "    \"\\u00e9\": \"model-00001-of-00002.safetensors\"\n" +
            "  }\n" +
            "}\n";
        Assert.Equal(expected, File.ReadAllText(temp.File("model.safetensors.index.json")));
        Assert.Equal(["model.safetensors.index.json"], temp.FileNames());
    }

    [Fact]
    public void EmptyWeightMap()
    {
        ShardedIndexWriter.Write(temp.Path, new Dictionary<string, string>(), 0);
        Assert.Equal("{\n  \"metadata\": {\n    \"total_size\": 0\n  },\n  \"weight_map\": {}\n}\n",
            File.ReadAllText(temp.File("model.safetensors.index.json")));
    }
}
