using Qzo.Compute.Cuda.Nvrtc;

namespace Qzo.Tests.Compute;

/// <summary>The on-disk cache of NVRTC cubins: a second start reads instead of compiling; damage means a compile.</summary>
public sealed class CompiledKernelCacheTests
{
    static readonly byte[] Cubin = [0x7F, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3, 4, 5];

    [Fact]
    public void TheSecondRequestReadsWhatTheFirstCompiled()
    {
        using var temp = new TempFolder();
        var cache = new CompiledKernelCache(temp["kernels"]);
        int compiles = 0;
        byte[] Compile() { compiles++; return Cubin; }
        string key = CompiledKernelCache.Key(["flash_attention.cu", "source", "--gpu-architecture=sm_90"]);
        Assert.Equal(Cubin, cache.GetOrCompile(key, Compile, out bool first));
        Assert.Equal(Cubin, new CompiledKernelCache(temp["kernels"]).GetOrCompile(key, Compile, out bool second));
        Assert.Equal((1, false, true), (compiles, first, second));
        Assert.Single(Directory.GetFiles(temp["kernels"])); // no temporary file left beside it
    }

    [Fact]
    public void EveryPartOfTheKeyCounts()
    {
        string[] parts = ["flash_attention.cu", "source", "--gpu-architecture=sm_90", "NVRTC 13.0", "driver 13000", "NVIDIA H100"];
        var keys = new HashSet<string> { CompiledKernelCache.Key(parts) };
        for (int i = 0; i < parts.Length; i++)
        {
            var changed = (string[])parts.Clone();
            changed[i] += "x";
            Assert.True(keys.Add(CompiledKernelCache.Key(changed)), $"part {i} does not change the key");
        }
        Assert.NotEqual(CompiledKernelCache.Key(["ab", "c"]), CompiledKernelCache.Key(["a", "bc"]));
        Assert.Matches("^[0-9a-f]{64}$", CompiledKernelCache.Key(parts));
    }

    [Fact]
    public void ADamagedOrTruncatedEntryIsCompiledAgainAndReplaced()
    {
        using var temp = new TempFolder();
        var cache = new CompiledKernelCache(temp["kernels"]);
        string key = CompiledKernelCache.Key(["k"]);
        cache.GetOrCompile(key, () => Cubin, out _);
        string file = Directory.GetFiles(temp["kernels"]).Single();
        foreach (var damage in new Func<byte[], byte[]>[] { b => { b[2] ^= 1; return b; }, b => b[..^1], _ => [] })
        {
            File.WriteAllBytes(file, damage(File.ReadAllBytes(file)));
            int compiles = 0;
            Assert.Equal(Cubin, cache.GetOrCompile(key, () => { compiles++; return Cubin; }, out bool cached));
            Assert.Equal((1, false), (compiles, cached));
            Assert.Equal(Cubin, cache.GetOrCompile(key, () => throw new InvalidOperationException("compiled twice"), out cached));
            Assert.True(cached);
        }
    }

    [Fact]
    public void OffOrAnUnwritableFolderStillCompiles()
    {
        int compiles = 0;
        var off = new CompiledKernelCache(null);
        off.GetOrCompile("k", () => { compiles++; return Cubin; }, out bool cached);
        off.GetOrCompile("k", () => { compiles++; return Cubin; }, out _);
        Assert.Equal((2, false), (compiles, cached));

        using var temp = new TempFolder();
        File.WriteAllText(temp["file"], "not a folder");
        var blocked = new CompiledKernelCache(Path.Combine(temp["file"], "kernels"));
        Assert.Equal(Cubin, blocked.GetOrCompile("k", () => Cubin, out cached));
        Assert.False(cached);
    }

    [Fact]
    public void TheEnvironmentChoosesTheFolderOrTurnsTheCacheOff()
    {
        string? saved = Environment.GetEnvironmentVariable(CompiledKernelCache.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(CompiledKernelCache.EnvironmentVariable, "off");
            Assert.Null(CompiledKernelCache.FromEnvironment().Folder);
            Environment.SetEnvironmentVariable(CompiledKernelCache.EnvironmentVariable, "/some/where");
            Assert.Equal("/some/where", CompiledKernelCache.FromEnvironment().Folder);
            Environment.SetEnvironmentVariable(CompiledKernelCache.EnvironmentVariable, null);
            Assert.EndsWith(Path.Combine("qzo", "kernels"), CompiledKernelCache.FromEnvironment().Folder);
        }
        finally { Environment.SetEnvironmentVariable(CompiledKernelCache.EnvironmentVariable, saved); }
    }
}
