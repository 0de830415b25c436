using Qzo.IO;

namespace Qzo.Tests.IO;

/// <summary>The checks <see cref="OutputPlan"/> makes before a command works: path relations, locks, leftovers.</summary>
public class OutputPlanTests
{
    [Fact]
    public void PathRelationSeesThroughSpellingsAndLinks()
    {
        using var folder = new TempFolder();
        string a = folder.File("a");
        Directory.CreateDirectory(Path.Combine(a, "inner"));
        File.CreateSymbolicLink(folder.File("link"), a);
        File.CreateSymbolicLink(folder.File("dangling"), folder.File("not-yet"));

        Assert.Equal(PathRelation.Kind.Same, PathRelation.Of(a, a + "/."));
        Assert.Equal(PathRelation.Kind.Same, PathRelation.Of(a, folder.Path + "/./a/"));
        Assert.Equal(PathRelation.Kind.Same, PathRelation.Of(folder.File("link"), a));
        Assert.Equal(PathRelation.Kind.FirstInsideSecond, PathRelation.Of(Path.Combine(folder.File("link"), "inner", "x"), a));
        Assert.Equal(PathRelation.Kind.SecondInsideFirst, PathRelation.Of(folder.Path, folder.File("link")));
        Assert.Equal(PathRelation.Kind.Unrelated, PathRelation.Of(folder.File("ab"), a));
        // A link to something not yet written resolves to where the write will land.
        Assert.Equal(folder.File("not-yet"), PathRelation.Canonical(folder.File("dangling")));
    }

    [Fact]
    public void ALockIsExclusiveNamesItsHolderAndIsRemovedOnRelease()
    {
        using var folder = new TempFolder();
        string target = folder.File("out");
        using (var first = new OutputPlan())
        {
            first.Folder(target, "--out", force: false);
            using var second = new OutputPlan();
            var e = Assert.Throws<QzoException>(() => second.Folder(target, "--out", force: false));
            Assert.Contains($"pid {Environment.ProcessId}", e.Message);
            Assert.Contains("in use by another qzo command", e.Message);
        }
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
        using var third = new OutputPlan();
        third.Folder(target, "--out", force: false);
    }

    [Fact]
    public void AnInputClaimedAfterAnOutputIsCheckedToo()
    {
        using var folder = new TempFolder();
        using var plan = new OutputPlan();
        plan.Folder(folder.File("out"), "--out", force: false);
        var e = Assert.Throws<QzoException>(() => plan.Input(Path.Combine(folder.File("out"), "model"), "the model"));
        Assert.Contains("contains the model", e.Message);
    }

    [Fact]
    public void LeftoversOfKilledWritesAreTidiedOrRestored()
    {
        using var folder = new TempFolder();
        string target = folder.File("x.json");
        File.WriteAllText(target + ".tmp-aa", "partial");
        File.WriteAllText(target + ".tmp-bb", "partial");
        Assert.Empty(InterruptedWrites.Recover(target));
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));

        string model = folder.File("m");
        Directory.CreateDirectory(model + ".old-1");
        File.WriteAllText(Path.Combine(model + ".old-1", "config.json"), "{}");
        var notes = InterruptedWrites.Recover(model);
        Assert.Contains("restored", Assert.Single(notes));
        Assert.True(File.Exists(Path.Combine(model, "config.json")));
        Assert.Equal(["m"], folder.FileNames());
    }

    [Fact]
    public void AWorkFolderIsClearedOnlyWithForceAndAResumedOneMustExist()
    {
        using var folder = new TempFolder();
        string run = folder.File("run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "metrics.jsonl"), "{}\n");
        using (var plan = new OutputPlan())
            Assert.Contains("--resume",
                Assert.Throws<QzoException>(() => plan.WorkFolder(run, "--run", force: false, hint: ", or --resume")).Message);
        using (var plan = new OutputPlan()) plan.WorkFolder(run, "--run", force: false, resume: true);
        Assert.True(File.Exists(Path.Combine(run, "metrics.jsonl")));
        using (var plan = new OutputPlan()) plan.WorkFolder(run, "--run", force: true);
        Assert.Empty(Directory.GetFileSystemEntries(run));
        using (var plan = new OutputPlan())
            Assert.Contains("no such run folder",
                Assert.Throws<QzoException>(() => plan.WorkFolder(folder.File("none"), "--resume", false, resume: true)).Message);
    }

    [Fact]
    public void AtomicFileWritesThroughALinkLeavingIt()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("real"), "old");
        File.CreateSymbolicLink(folder.File("link"), folder.File("real"));
        AtomicFile.WriteAllText(folder.File("link"), "new");
        Assert.Equal("new", File.ReadAllText(folder.File("real")));
        Assert.NotNull(new FileInfo(folder.File("link")).LinkTarget);
        Assert.Equal(["link", "real"], folder.FileNames());
    }
}
