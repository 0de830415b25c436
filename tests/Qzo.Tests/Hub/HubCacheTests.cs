using Qzo.Hub;

namespace Qzo.Tests.Hub;

/// <summary>Hub ids resolved from a cache laid out as huggingface_hub lays it out, with no Hub to ask.</summary>
public class HubCacheTests
{
    const string Commit = "0123456789abcdef0123456789abcdef01234567";

    [Fact]
    public void ACompleteSnapshotIsUsedWithoutTheNetwork()
    {
        using var folder = new TempFolder();
        var files = HubFixtures.ShardedModel();
        files.Remove("pytorch_model.bin");
        string snapshot = HubFixtures.Cache(folder["hub"], "models--org--tiny", "main", Commit, files);
        // The endpoint is a closed port: any request would fail.
        var settings = HubFixtures.Settings(folder, hub: null);
        Assert.Equal(snapshot, HubModels.Folder("org/tiny", null, settings, IHubProgress.Silent));
        Assert.Equal(snapshot, HubModels.Folder("org/tiny", Commit, settings, IHubProgress.Silent));
        Assert.Equal(snapshot, HubModels.Folder("org/tiny", null, settings with { Offline = true }, IHubProgress.Silent));
    }

    [Fact]
    public void AnIncompleteOrMissingSnapshotOfflineNamesBothReadings()
    {
        using var folder = new TempFolder();
        var files = HubFixtures.ShardedModel();
        files.Remove("model-00002-of-00002.safetensors");
        HubFixtures.Cache(folder["hub"], "models--org--tiny", "main", Commit, files);
        var offline = HubFixtures.Settings(folder, hub: null, offline: true);
        var e = Assert.Throws<QzoException>(() => HubModels.Folder("org/tiny", null, offline, IHubProgress.Silent));
        Assert.StartsWith("org/tiny: no such folder, and Hub model org/tiny (revision main) is incomplete in the cache", e.Message);
        string shard = Path.Combine(folder["hub"], "models--org--tiny", "snapshots", Commit, "model-00002-of-00002.safetensors");
        Assert.Contains(shard, e.Message);
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        e = Assert.Throws<QzoException>(() => HubModels.Folder("org/other", "v2", offline, IHubProgress.Silent));
        Assert.StartsWith("org/other: no such folder, and Hub model org/other (revision v2) is not in the cache", e.Message);
        Assert.Contains($"(no {Path.Combine(folder["hub"], "models--org--other", "refs", "v2")})", e.Message);
    }

    [Fact]
    public void WithoutTheNetworkTheLineAlsoNamesTheFileTheCacheLacks()
    {
        using var folder = new TempFolder();
        var unreachable = HubFixtures.Settings(folder, hub: null); // http://127.0.0.1:9: nothing listens there
        var e = Assert.Throws<QzoException>(() => HubModels.Folder("org/absent", null, unreachable, IHubProgress.Silent));
        Assert.Contains("cannot reach http://127.0.0.1:9", e.Message);
        Assert.Contains($"it is not in the cache (no {Path.Combine(folder["hub"], "models--org--absent", "refs", "main")})", e.Message);
        e = Assert.Throws<QzoException>(() =>
            HubDatasets.Folder("org/data", "sst2", null, ["train", "validation"], unreachable, IHubProgress.Silent));
        Assert.Contains("cannot reach http://127.0.0.1:9", e.Message);
        Assert.Contains($"(no {Path.Combine(folder["hub"], "datasets--org--data", "refs", "main")}; no ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void PathsAndNamesThatAreNoHubIdsAreLeftAlone()
    {
        using var folder = new TempFolder();
        var settings = HubFixtures.Settings(folder, hub: null, offline: true);
        Directory.CreateDirectory(folder["org"]);
        Assert.Equal(folder["org"], HubModels.Folder(folder["org"], null, settings, IHubProgress.Silent));
        Assert.Equal("./org/model", HubModels.Folder("./org/model", null, settings, IHubProgress.Silent));
        Assert.Equal("model", HubModels.Folder("model", null, settings, IHubProgress.Silent));
        Assert.False(HubRepo.TryParse("org--x/name", HubRepoType.Model, out _));
        Assert.False(HubRepo.TryParse("org/name.git", HubRepoType.Model, out _));
        Assert.True(HubRepo.TryParse("glue", HubRepoType.Dataset, out _));
        var e = Assert.Throws<QzoException>(() => HubModels.Folder(folder["org"], "main", settings, IHubProgress.Silent));
        Assert.Contains("is a local path", e.Message);
    }

    [Fact]
    public void DatasetSubsetsAreFoundInTheMainBranchOrTheParquetExport()
    {
        using var folder = new TempFolder();
        var parquet = HubFixtures.Random(64, 5);
        string main = HubFixtures.Cache(folder["hub"], "datasets--nyu-mll--glue", "main", Commit, new Dictionary<string, byte[]>
        {
            ["sst2/train-00000-of-00001.parquet"] = parquet, ["sst2/validation-00000-of-00001.parquet"] = parquet,
            ["cola/train-00000-of-00002.parquet"] = parquet, ["cola/validation-00000-of-00001.parquet"] = parquet,
        });
        var settings = HubFixtures.Settings(folder, hub: null, offline: true);
        Assert.Equal(Path.Combine(main, "sst2"),
                     HubDatasets.Folder("nyu-mll/glue", "sst2", null, ["train", "validation"], settings, IHubProgress.Silent));
        // One shard of two: not complete, and offline there is nothing else to try.
        var e = Assert.Throws<QzoException>(() =>
            HubDatasets.Folder("nyu-mll/glue", "cola", null, ["train", "validation"], settings, IHubProgress.Silent));
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
        Assert.Contains($"no {Path.Combine(main, "cola/train-00001-of-00002.parquet")}", e.Message);
        Assert.Contains($"no {Path.Combine(folder["hub"], "datasets--nyu-mll--glue", "refs", "refs", "convert", "parquet")}", e.Message);

        const string exportCommit = "fedcba9876543210fedcba9876543210fedcba98";
        string export = HubFixtures.Cache(folder["hub"], "datasets--super_glue", "refs/convert/parquet", exportCommit,
            new Dictionary<string, byte[]> { ["rte/train/0000.parquet"] = parquet, ["rte/validation/0000.parquet"] = parquet });
        Assert.True(File.Exists(Path.Combine(folder["hub"], "datasets--super_glue", "refs", "refs", "convert", "parquet")));
        Assert.Equal(Path.Combine(export, "rte"),
                     HubDatasets.Folder("super_glue", "rte", null, ["train", "validation"], settings, IHubProgress.Silent));

        foreach (var bad in new[] { "", "../sst2", "a/b" })
        {
            var refused = Assert.Throws<QzoException>(() =>
                HubDatasets.Folder("nyu-mll/glue", bad, null, ["train"], settings, IHubProgress.Silent));
            Assert.Contains($"--subset '{bad}' is not a subset", refused.Message);
        }
    }
}
