using System.Text;
using Qzo.Hub;

namespace Qzo.Tests.Hub;

/// <summary>Hub settings on a temporary cache and a fake Hub, and small repositories to put on it.</summary>
static class HubFixtures
{
    public static HubSettings Settings(TempFolder folder, FakeHub? hub, bool offline = false, string? token = null) => new()
    {
        CacheFolder = folder["hub"], Endpoint = hub?.Endpoint ?? "http://127.0.0.1:9", Offline = offline, Token = token,
    };

    public static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    public static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A sharded checkpoint with the files Qzo reads and some it does not (a .bin copy, a README).</summary>
    public static Dictionary<string, byte[]> ShardedModel() => new()
    {
        ["config.json"] = Text("{\"model_type\": \"llama\"}"),
        ["generation_config.json"] = Text("{\"do_sample\": false}"),
        ["tokenizer.json"] = Text("{\"model\": {}}"),
        ["tokenizer_config.json"] = Text("{}"),
        ["model.safetensors.index.json"] = Text(
            "{\"metadata\": {}, \"weight_map\": " +
            "{\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00002-of-00002.safetensors\"}}"),
        ["model-00001-of-00002.safetensors"] = Random(300_000, 1),
        ["model-00002-of-00002.safetensors"] = Random(200_000, 2),
        ["pytorch_model.bin"] = Random(1000, 3),
        ["README.md"] = Text("# a model"),
    };

    /// <summary>Lays out a snapshot as huggingface_hub does: blobs named by ETag, relative links, refs/REVISION.</summary>
    public static string Cache(string cacheRoot, string folderName, string revision, string commit,
        IReadOnlyDictionary<string, byte[]> files)
    {
        string storage = Path.Combine(cacheRoot, folderName);
        Directory.CreateDirectory(Path.Combine(storage, "blobs"));
        foreach (var (name, content) in files)
        {
            string etag = FakeHub.IsLfs(name) ? FakeHub.Sha256(content) : FakeHub.GitSha1(content);
            File.WriteAllBytes(Path.Combine(storage, "blobs", etag), content);
            string pointer = Path.Combine(storage, "snapshots", commit, name);
            Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
            File.CreateSymbolicLink(pointer, Path.GetRelativePath(Path.GetDirectoryName(pointer)!, Path.Combine(storage, "blobs", etag)));
        }
        string refFile = Path.Combine(storage, "refs", revision);
        Directory.CreateDirectory(Path.GetDirectoryName(refFile)!);
        File.WriteAllText(refFile, commit);
        return Path.Combine(storage, "snapshots", commit);
    }
}
