using Qzo.Distributed;

namespace Qzo.Tests.Distributed;

public class DistributedLaunchTests
{
    static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void TorchrunVariablesDescribeTheLaunch()
    {
        var launch = DistributedLaunch.FromEnvironment(Env(("RANK", "3"), ("WORLD_SIZE", "8"), ("LOCAL_RANK", "1"),
            ("MASTER_ADDR", "node0"), ("MASTER_PORT", "29400")));
        Assert.Equal(new DistributedLaunch(3, 8, 1, "node0", 29400, "torchrun"), launch);
    }

    [Fact]
    public void SlurmVariablesDescribeTheLaunchWithTheDefaultPort()
    {
        var launch = DistributedLaunch.FromEnvironment(Env(("SLURM_PROCID", "5"), ("SLURM_NTASKS", "6"), ("SLURM_LOCALID", "1"),
            ("MASTER_ADDR", "10.0.0.2")));
        Assert.Equal(new DistributedLaunch(5, 6, 1, "10.0.0.2", DistributedLaunch.DefaultPort, "slurm"), launch);
    }

    [Fact]
    public void NoLauncherVariablesOrAWorldOfOneMeanASingleProcess()
    {
        Assert.Null(DistributedLaunch.FromEnvironment(Env()));
        Assert.Null(DistributedLaunch.FromEnvironment(Env(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1"))));
        Assert.Null(DistributedLaunch.FromEnvironment(Env(("RANK", "0"), ("WORLD_SIZE", "1"))));
    }

    [Theory]
    [InlineData("4", "4", "rank 4 is outside 0..3")]
    [InlineData("x", "4", "RANK must be an integer, got 'x'")]
    [InlineData(null, "4", "RANK is not set")]
    public void BadVariablesGiveOneLineNamingThem(string? rank, string world, string expected)
    {
        var variables = new List<(string, string)> { ("WORLD_SIZE", world), ("MASTER_ADDR", "h"), ("MASTER_PORT", "1234") };
        if (rank is not null) variables.Add(("RANK", rank));
        var error = Assert.Throws<QzoException>(() => DistributedLaunch.FromEnvironment(Env(variables.ToArray())));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ALaunchWithoutMasterAddrSaysSo()
    {
        var error = Assert.Throws<QzoException>(() => DistributedLaunch.FromEnvironment(Env(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "2"))));
        Assert.Equal("slurm environment: MASTER_ADDR is not set (the host of rank 0)", error.Message);
    }
}
