using System.Globalization;

namespace Qzo.Cli.Commands;

/// <summary>
/// `finetune --devices` (docs/distributed.md): GPU ids ("0,1,2,3": one worker process per GPU, over NCCL), "cpu:N" (N
/// ranks as threads of this process on the CPU backend), or "cpu-processes:N" (N worker processes on the CPU over TCP,
/// which runs the GPU launch path without GPUs).
/// </summary>
sealed record DeviceList(IReadOnlyList<string> Gpus, int CpuThreads, int CpuProcesses)
{
    public int Ranks => Gpus.Count + CpuThreads + CpuProcesses;

    public static DeviceList Parse(string text)
    {
        const string Spelling = "--devices takes GPU ids (0,1,2,3), cpu:N or cpu-processes:N";
        if (text.StartsWith("cpu:", StringComparison.Ordinal)) return new([], Count(text[4..]), 0);
        if (text.StartsWith("cpu-processes:", StringComparison.Ordinal)) return new([], 0, Count(text["cpu-processes:".Length..]));
        var ids = text.Split(',');
        if (ids.Any(id => !int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            throw new QzoException($"{Spelling}, got '{text}'");
        if (ids.Distinct().Count() != ids.Length) throw new QzoException($"--devices names a GPU twice: '{text}'");
        return new(ids, 0, 0);

        int Count(string n) => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 1 ? count
            : throw new QzoException($"{Spelling}; N must be ≥ 1, got '{text}'");
    }
}
