using System.Globalization;

namespace Qzo.Distributed;

/// <summary>
/// Where this process sits in a multi-process run, as launchers describe it in the environment (docs/distributed.md):
/// torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT, or Slurm's SLURM_PROCID, SLURM_NTASKS and
/// SLURM_LOCALID (with MASTER_ADDR set by the job script, and MASTER_PORT defaulting to <see cref="DefaultPort"/>).
/// </summary>
/// <param name="Source">which launcher's variables were read: "torchrun" or "slurm".</param>
public sealed record DistributedLaunch(int Rank, int WorldSize, int LocalRank, string MasterAddress, int MasterPort, string Source)
{
    public const int DefaultPort = 29500;

    /// <summary>The launch the environment describes; null when it describes none, or a world of one (a single-process run).</summary>
    public static DistributedLaunch? FromEnvironment(Func<string, string?> variable)
    {
        if (variable("RANK") is not null || variable("WORLD_SIZE") is not null)
        {
            int rank = Integer(variable, "RANK", null), world = Integer(variable, "WORLD_SIZE", null);
            if (world == 1 && rank == 0) return null;
            return Checked(rank, world, Integer(variable, "LOCAL_RANK", rank), Address(variable, "torchrun"),
                           Integer(variable, "MASTER_PORT", null), "torchrun");
        }
        if (variable("SLURM_PROCID") is not null)
        {
            int rank = Integer(variable, "SLURM_PROCID", null), world = Integer(variable, "SLURM_NTASKS", null);
            if (world == 1 && rank == 0) return null;
            return Checked(rank, world, Integer(variable, "SLURM_LOCALID", 0), Address(variable, "slurm"),
                           Integer(variable, "MASTER_PORT", DefaultPort), "slurm");
        }
        return null;
    }

    public static DistributedLaunch? FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    static DistributedLaunch Checked(int rank, int world, int localRank, string address, int port, string source)
    {
        if (world < 1) throw new QzoException($"{source} environment: the world size must be ≥ 1, got {world}");
        if (rank < 0 || rank >= world) throw new QzoException($"{source} environment: rank {rank} is outside 0..{world - 1}");
        if (localRank < 0) throw new QzoException($"{source} environment: the local rank must be ≥ 0, got {localRank}");
        if (port is < 1 or > 65535) throw new QzoException($"{source} environment: MASTER_PORT must be 1..65535, got {port}");
        return new DistributedLaunch(rank, world, localRank, address, port, source);
    }

    static string Address(Func<string, string?> variable, string source) =>
        variable("MASTER_ADDR") is { Length: > 0 } address ? address
            : throw new QzoException($"{source} environment: MASTER_ADDR is not set (the host of rank 0)");

    static int Integer(Func<string, string?> variable, string name, int? fallback)
    {
        string? text = variable(name);
        if (text is null)
            return fallback ?? throw new QzoException($"{name} is not set (a multi-process launch sets it for every process)");
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value
            : throw new QzoException($"{name} must be an integer, got '{text}'");
    }
}
