using Qzo.Compute;
using Qzo.Compute.Cuda;

namespace Qzo.IO;

/// <summary>
/// The memory and disk space a job may use, and the one-line refusals when its estimate (computed up front, in double,
/// so absurd shapes cannot overflow) is more than that. Estimates passed here are lower bounds of what the job will
/// allocate or write, so a refusal means the job could not have finished; what fits is never refused.
/// Tests shrink the figures with <see cref="Limit"/>.
/// </summary>
public static class ResourceBudget
{
    sealed record Limits(long? HostMemory, long? DeviceMemory, long? FreeDisk);

    static readonly AsyncLocal<Limits?> Override = new();

    /// <summary>Until disposed, this async flow sees the given figures instead of the machine's (null keeps the machine's).</summary>
    public static IDisposable Limit(long? hostMemory = null, long? deviceMemory = null, long? freeDisk = null)
    {
        var previous = Override.Value;
        Override.Value = new Limits(hostMemory, deviceMemory, freeDisk);
        return new Restore(() => Override.Value = previous);
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>
    /// Host memory a new allocation can get: /proc/meminfo's MemAvailable plus SwapFree (what the kernel can hand out without
    /// killing anything; swap counts because a job that spills into it still finishes today), capped by the GC's
    /// TotalAvailableMemoryBytes, which is the container's memory limit or GCHeapHardLimit where one is set (MemAvailable
    /// knows nothing of cgroups). Without /proc/meminfo, the GC's figure alone.
    /// </summary>
    public static long HostMemoryAvailable()
    {
        if (Override.Value?.HostMemory is long limit) return limit;
        long gc = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return MemInfoAvailable() is long kernel ? Math.Min(kernel, gc) : gc;
    }

    static long? MemInfoAvailable()
    {
        try
        {
            long? available = null, swap = null;
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)) available = KibLine(line);
                else if (line.StartsWith("SwapFree:", StringComparison.Ordinal)) swap = KibLine(line);
            }
            return available + (swap ?? 0);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    static long? KibLine(string line) =>
        long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out long kib) ? kib * 1024 : null;

    /// <summary>
    /// Free space for an output at <paramref name="path"/>: that of the nearest folder above it that exists (null: unknown).
    /// </summary>
    public static long? FreeDiskSpace(string path)
    {
        if (Override.Value?.FreeDisk is long limit) return limit;
        try { return new DriveInfo(ExistingAncestor(path)).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The path itself if it is a folder that exists, else the nearest existing folder above it.</summary>
    public static string ExistingAncestor(string path)
    {
        var folder = Path.GetFullPath(path);
        while (!Directory.Exists(folder)) folder = Path.GetDirectoryName(folder) ?? Path.GetPathRoot(folder)!;
        return folder;
    }

    /// <summary>The free memory of the device a backend allocates on: the GPU's for CUDA, else the host's (null: unknown).</summary>
    public static long? DeviceMemoryAvailable(IBackend backend)
    {
        if (backend is CudaBackend { IsCuda: true } cuda)
            return Override.Value?.DeviceMemory is long limit ? limit : cuda.DriverMemory()?.Free;
        return HostMemoryAvailable();
    }

    /// <summary>
    /// Refuses writing <paramref name="bytes"/> of <paramref name="what"/> under <paramref name="output"/> when the disk has less free.
    /// </summary>
    public static void RequireDisk(string job, string what, string output, double bytes)
    {
        if (FreeDiskSpace(output) is long free && bytes > free)
            throw new QzoException($"{job}: {what} would take {ByteSize.Text(bytes)}, " +
                                   $"but {ExistingAncestor(output)} has {ByteSize.Text(free)} free");
    }

    /// <summary>Refuses holding <paramref name="bytes"/> in host memory when less is available.</summary>
    public static void RequireHostMemory(string job, string what, double bytes)
    {
        long available = HostMemoryAvailable();
        if (bytes > available)
            throw new QzoException($"{job}: {what} needs {ByteSize.Text(bytes)} of memory, " +
                                   $"but the machine has {ByteSize.Text(available)} available");
    }

    /// <summary>Refuses allocating <paramref name="bytes"/> on <paramref name="backend"/> when its device has less free.</summary>
    public static void RequireDeviceMemory(string job, string what, IBackend backend, double bytes)
    {
        if (backend is not CudaBackend { IsCuda: true }) { RequireHostMemory(job, what, bytes); return; }
        if (DeviceMemoryAvailable(backend) is long free && bytes > free)
            throw new QzoException($"{job}: {what} needs {ByteSize.Text(bytes)} of GPU memory, the GPU has {ByteSize.Text(free)} free");
    }
}
