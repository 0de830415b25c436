using Qzo.Hub;

namespace Qzo.Tests.Hub;

/// <summary>Downloads from a fake Hub on localhost that speaks the Hub's URL scheme and headers.</summary>
public class HubDownloadTests
{
    static readonly string Shard1 = "model-00001-of-00002.safetensors", Shard2 = "model-00002-of-00002.safetensors";

    [Fact]
    public void OnlyTheFilesQzoReadsAreDownloadedIntoTheHuggingFaceLayout()
    {
        using var folder = new TempFolder();
        using var hub = new FakeHub { Token = "hf_secret" };
        var files = HubFixtures.ShardedModel();
        string commit = hub.Commit("models/org/tiny", "main", files);
        var settings = HubFixtures.Settings(folder, hub, token: "hf_secret");

        string snapshot = HubModels.Folder("org/tiny", null, settings, IHubProgress.Silent);

        string storage = Path.Combine(folder["hub"], "models--org--tiny");
        Assert.Equal(Path.Combine(storage, "snapshots", commit), snapshot);
        Assert.Equal(commit, File.ReadAllText(Path.Combine(storage, "refs", "main")));
        string[] wanted = ["config.json", "generation_config.json", "model.safetensors.index.json", Shard1, Shard2, "tokenizer.json",
                           "tokenizer_config.json"];
        Assert.Equal(wanted.Order(StringComparer.Ordinal), HubCache.FilesOf(snapshot));
        foreach (var name in wanted)
        {
            string etag = FakeHub.IsLfs(name) ? FakeHub.Sha256(files[name]) : FakeHub.GitSha1(files[name]);
            Assert.Equal(Path.Combine("..", "..", "blobs", etag), new FileInfo(Path.Combine(snapshot, name)).LinkTarget);
            Assert.Equal(files[name], File.ReadAllBytes(Path.Combine(snapshot, name)));
        }
        Assert.Empty(Directory.GetFiles(Path.Combine(storage, "blobs"), "*.incomplete"));
        Assert.True(File.Exists(Path.Combine(folder["hub"], ".locks", "models--org--tiny", FakeHub.Sha256(files[Shard1]) + ".lock")));
        Assert.True(File.Exists(Path.Combine(folder["hub"], "CACHEDIR.TAG")));
        // The token goes to the Hub, never to the file host a redirect points at.
        Assert.All(hub.Log.Where(r => r.Host == "127.0.0.1"), r => Assert.Equal("Bearer hf_secret", r.Authorization));
        Assert.All(hub.Log.Where(r => r.Host == "localhost"), r => Assert.Null(r.Authorization));
        Assert.Equal(2, hub.Log.Count(r => r.Host == "localhost"));

        // Complete in the cache: no request at all the second time.
        int requests = hub.Log.Count;
        Assert.Equal(snapshot, HubModels.Folder("org/tiny", "main", settings, IHubProgress.Silent));
        Assert.Equal(requests, hub.Log.Count);
    }

    [Fact]
    public void AnInterruptedTransferResumesWithARangeRequest()
    {
        using var folder = new TempFolder();
        using var hub = new FakeHub();
        var files = HubFixtures.ShardedModel();
        string sha = FakeHub.Sha256(files[Shard1]);
        hub.Commit("models/org/tiny", "main", files);
        var settings = HubFixtures.Settings(folder, hub);

        // Cut every time: the run gives up, keeping what arrived for the next one.
        hub.Cuts[sha] = (100_000, 99);
        var e = Assert.Throws<QzoException>(() => HubModels.Folder("org/tiny", null, settings, IHubProgress.Silent));
        Assert.Contains("run again to resume", e.Message);
        string partial = Path.Combine(folder["hub"], "models--org--tiny", "blobs", sha + ".incomplete");
        Assert.Equal(100_000, new FileInfo(partial).Length); // each retry resumed at 100,000 bytes and was cut there again
        Assert.Contains(hub.Log, r => r.Range == "bytes=100000-");
        Assert.False(File.Exists(Path.Combine(folder["hub"], "models--org--tiny", "blobs", sha)));

        // The next run resumes.
        hub.Cuts[sha] = (0, 0);
        hub.Log.Clear();
        var notes = new List<string>();
        string snapshot = HubModels.Folder("org/tiny", null, settings, new Recording(notes));
        Assert.Equal(files[Shard1], File.ReadAllBytes(Path.Combine(snapshot, Shard1)));
        Assert.Contains(hub.Log, r => r.Host == "localhost" && r.Range == "bytes=100000-");
        Assert.DoesNotContain(hub.Log, r => r.Host == "localhost" && r.Range is null && r.Request.EndsWith(sha));
        Assert.Contains(notes, n => n.Contains("resuming the download at 100000 of 300000 bytes"));
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public void ATransferCutOnceIsResumedInTheSameRun()
    {
        using var folder = new TempFolder();
        using var hub = new FakeHub();
        var files = HubFixtures.ShardedModel();
        string sha = FakeHub.Sha256(files[Shard2]);
        hub.Commit("models/org/tiny", "main", files);
        hub.Cuts[sha] = (50_000, 1);
        string snapshot = HubModels.Folder("org/tiny", null, HubFixtures.Settings(folder, hub), IHubProgress.Silent);
        Assert.Equal(files[Shard2], File.ReadAllBytes(Path.Combine(snapshot, Shard2)));
        Assert.Contains(hub.Log, r => r.Range == "bytes=50000-");
    }

    [Fact]
    public void CorruptedContentIsRefusedAndNotKept()
    {
        using var folder = new TempFolder();
        using var hub = new FakeHub();
        var files = HubFixtures.ShardedModel();
        string sha = FakeHub.Sha256(files[Shard2]);
        string commit = hub.Commit("models/org/tiny", "main", files);
        hub.Corrupt[sha] = true;
        var settings = HubFixtures.Settings(folder, hub);
        var e = Assert.Throws<QzoException>(() => HubModels.Folder("org/tiny", null, settings, IHubProgress.Silent));
        Assert.Contains($"file {Shard2}: the downloaded content hashes to", e.Message);
        Assert.Contains($"not to its ETag {sha}", e.Message);
        string blobs = Path.Combine(folder["hub"], "models--org--tiny", "blobs");
        Assert.False(File.Exists(Path.Combine(blobs, sha)));
        Assert.False(File.Exists(Path.Combine(blobs, sha + ".incomplete")));
        Assert.False(Path.Exists(Path.Combine(folder["hub"], "models--org--tiny", "snapshots", commit, Shard2)));
        Assert.False(File.Exists(Path.Combine(folder["hub"], "models--org--tiny", "refs", "main")));

        hub.Corrupt.Clear();
        Assert.True(File.Exists(Path.Combine(HubModels.Folder("org/tiny", null, settings, IHubProgress.Silent), Shard2)));
    }

    [Fact]
    public void RefusalsAreOneLineEach()
    {
        using var folder = new TempFolder();
        using var hub = new FakeHub();
        hub.Commit("models/org/tiny", "main", HubFixtures.ShardedModel());
        hub.Commit("models/org/gated", "main", HubFixtures.ShardedModel(), gated: true);
        var settings = HubFixtures.Settings(folder, hub);
        string Line(string id, string? revision, HubSettings s) =>
            Assert.Throws<QzoException>(() => HubModels.Folder(id, revision, s, IHubProgress.Silent)).Message;

        string missing = Line("org/nope", null, settings);
        Assert.StartsWith("org/nope: no such folder, and Hub model org/nope: not found on http://127.0.0.1:", missing);
        Assert.Contains("no token was given (set HF_TOKEN)", missing);
        Assert.Contains("HTTP 401: Repository not found", missing);
        Assert.Contains("no revision 'v9'", Line("org/tiny", "v9", settings));
        string gated = Line("org/gated", null, settings);
        Assert.Contains("Hub model org/gated is gated: accept its conditions at http://127.0.0.1:", gated);
        Assert.Contains("/org/gated and set HF_TOKEN", gated);
        hub.Token = "hf_right";
        Assert.Contains("Invalid credentials", Line("org/gated", null, settings with { Token = "hf_wrong" }));
        Assert.EndsWith(HubModels.Folder("org/gated", null, settings with { Token = "hf_right" }, IHubProgress.Silent)[^40..],
                        File.ReadAllText(Path.Combine(folder["hub"], "models--org--gated", "refs", "main")));
        foreach (var line in new[] { missing, gated }) Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public void DatasetsComeFromTheParquetExportWhenTheMainBranchHasNone()
    {
        using var folder = new TempFolder();
        using var hub = new FakeHub();
        var train = HubFixtures.Random(5000, 7);
        var validation = HubFixtures.Random(3000, 8);
        hub.Commit("datasets/glue", "main", new Dictionary<string, byte[]> { ["glue.py"] = HubFixtures.Text("# a script") });
        string export = hub.Commit("datasets/glue", "refs/convert/parquet", new Dictionary<string, byte[]>
        {
            ["sst2/train/0000.parquet"] = train, ["sst2/validation/0000.parquet"] = validation,
            ["sst2/test/0000.parquet"] = validation, ["cola/train/0000.parquet"] = train,
        });
        var settings = HubFixtures.Settings(folder, hub);
        string data = HubDatasets.Folder("glue", "sst2", null, ["train", "validation"], settings, IHubProgress.Silent);
        string storage = Path.Combine(folder["hub"], "datasets--glue");
        Assert.Equal(Path.Combine(storage, "snapshots", export, "sst2"), data);
        Assert.Equal(["sst2/train/0000.parquet", "sst2/validation/0000.parquet"],
                     HubCache.FilesOf(Path.Combine(storage, "snapshots", export)));
        Assert.Equal(export, File.ReadAllText(Path.Combine(storage, "refs", "refs", "convert", "parquet")));
        Assert.Contains(hub.Log, r => r.Request == "HEAD /datasets/glue/resolve/" + export + "/sst2/train/0000.parquet");

        var e = Assert.Throws<QzoException>(() =>
            HubDatasets.Folder("glue", "mnli", null, ["train", "validation"], settings, IHubProgress.Silent));
        Assert.Equal("Hub dataset glue, subset 'mnli', splits train, validation: no Parquet files for them in main or " +
                     "refs/convert/parquet (subsets with Parquet files: cola, sst2)", e.Message);
        Assert.Equal(data, HubDatasets.Folder("glue", "sst2", null, ["train", "validation"], settings with { Offline = true },
                                              IHubProgress.Silent));
    }

    sealed class Recording(List<string> notes) : IHubProgress
    {
        public void File(string name, long size, Action<Action<long>> transfer) => transfer(_ => { });
        public void Note(string line) => notes.Add(line);
    }
}
