using Qzo.Distributed;
using Qzo.Distributed.Nccl;

namespace Qzo.Cli.Commands;

/// <summary>
/// A worker's communicator under a launcher (ours, torchrun or Slurm): TCP between CPU workers, NCCL between GPU workers,
/// each worker on GPU LOCAL_RANK of those visible to it unless its launcher left it only one.
/// </summary>
static class RankCommunicator
{
    public static ICommunicator Create(DistributedLaunch launch, string device)
    {
        var timeout = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("QZO_RENDEZVOUS_TIMEOUT"), out int s) ? s : 600);
        if (device == "cpu") return TcpRendezvous.Connect(launch, timeout);
        NarrowVisibleDevices(launch.LocalRank);
        return NcclCommunicator.Create(launch, deviceOrdinal: 0, timeout);
    }

    /// <summary>Before CUDA starts: CUDA_VISIBLE_DEVICES ← this worker's GPU, so "the first CUDA device" is its own.</summary>
    static void NarrowVisibleDevices(int localRank)
    {
        var visible = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES")?.Split(',', StringSplitOptions.RemoveEmptyEntries);
        if (visible is { Length: 1 }) return;
        if (visible is not null && localRank >= visible.Length) throw new QzoException(
            $"LOCAL_RANK {localRank}, but CUDA_VISIBLE_DEVICES lists {visible.Length} GPU(s)");
        NativeEnvironment.Set("CUDA_VISIBLE_DEVICES", visible is null ? $"{localRank}" : visible[localRank]);
    }
}
