using System.Collections.Concurrent;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// What the <see cref="Bnb4BitLazyLinear"/>s written in one go share. fp32 weight buffers, reused from linear to linear:
/// a fresh array of up to ~100 MB costs a page fault per 4 KiB each time. And a background lane that runs work (each
/// linear's reconstruction error, a serial sum) one item at a time in the order it was handed in, while the writer goes on
/// to the next tensor. The lane holds the buffer of the weight it sums, so the buffer count bounds the memory:
/// with two, one weight is being encoded while the previous one's error is summed.
/// </summary>
public sealed class Bnb4BitLazyWork : IDisposable
{
    readonly long _largestWeight;
    readonly SemaphoreSlim _free;
    readonly ConcurrentBag<float[]> _buffers = [];
    readonly Lock _gate = new();
    Task _lane = Task.CompletedTask;
    Exception? _failure;

    /// <param name="largestWeight">values of the largest weight a buffer must hold (at most Array.MaxLength)</param>
    public Bnb4BitLazyWork(long largestWeight, int buffers = 2)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(largestWeight, Array.MaxLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(buffers, 1);
        _largestWeight = largestWeight;
        _free = new SemaphoreSlim(buffers, buffers);
    }

    /// <summary>A buffer of at least the largest weight's length, once one is free (made on first need).</summary>
    public float[] RentWeight(long values)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(values, _largestWeight);
        _free.Wait();
        return _buffers.TryTake(out var buffer) ? buffer : GC.AllocateUninitializedArray<float>((int)_largestWeight);
    }

    public void ReturnWeight(float[] buffer)
    {
        _buffers.Add(buffer);
        _free.Release();
    }

    /// <summary>Runs <paramref name="work"/> in the background after all work handed in before; a failure surfaces in <see cref="Finish"/>.</summary>
    public void Then(Action work)
    {
        lock (_gate)
            _lane = _lane.ContinueWith(_ =>
            {
                try { work(); }
                catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Waits for the lane; rethrows the first failure there.</summary>
    public void Finish()
    {
        Task lane;
        lock (_gate) lane = _lane;
        lane.Wait();
        if (_failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failure);
    }

    /// <summary>Waits for the lane (so nothing runs on after a failed write), without rethrowing.</summary>
    public void Dispose()
    {
        Task lane;
        lock (_gate) lane = _lane;
        lane.Wait();
        _free.Dispose();
    }
}
