using System.Runtime.ExceptionServices;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// What the <see cref="Bnb4BitLazyLinear"/>s written in one go share. One fp32 weight buffer, reused from linear to
/// linear (a writer makes one tensor at a time; a fresh array of up to ~100 MB costs a page fault per 4 KiB each time).
/// And background work: each linear's reconstruction error is a serial sum, so summing one linear takes one core for as
/// long as encoding it takes all of them; the sums of several linears run side by side (each still serial, so each gives
/// the double it always gave) while the writer goes on, and their results are handed on in the order they were started.
/// </summary>
public sealed class Bnb4BitLazyWork : IDisposable
{
    readonly long _largestWeight;
    readonly SemaphoreSlim _bufferFree = new(1, 1);
    readonly SemaphoreSlim _workSlots;
    readonly Lock _gate = new();
    float[]? _buffer;
    Task _handedOn = Task.CompletedTask;
    Exception? _failure;

    /// <param name="largestWeight">values of the largest weight the buffer must hold (at most Array.MaxLength)</param>
    /// <param name="sideBySide">how many pieces of work may run at once (default: half the cores, at least one)</param>
    public Bnb4BitLazyWork(long largestWeight, int? sideBySide = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(largestWeight, Array.MaxLength);
        int slots = sideBySide ?? Math.Max(1, Environment.ProcessorCount / 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _largestWeight = largestWeight;
        _workSlots = new SemaphoreSlim(slots, slots);
    }

    /// <summary>The buffer, at least <paramref name="values"/> long, once it is free (made on first need).</summary>
    public float[] RentWeight(long values)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(values, _largestWeight);
        _bufferFree.Wait();
        return _buffer ??= GC.AllocateUninitializedArray<float>((int)_largestWeight);
    }

    public void ReturnWeight(float[] buffer)
    {
        if (!ReferenceEquals(buffer, _buffer)) throw new ArgumentException("not this work's buffer", nameof(buffer));
        _bufferFree.Release();
    }

    /// <summary>
    /// Runs <paramref name="work"/> in the background once fewer than the side-by-side limit run (waiting here until
    /// then), and hands its result to <paramref name="handOn"/> after everything handed in before was handed on. A failure of
    /// either surfaces in <see cref="Finish"/>; the work after it still runs.
    /// </summary>
    public void Then<T>(Func<T> work, Action<T> handOn)
    {
        _workSlots.Wait();
        var done = Task.Factory.StartNew(() =>
        {
            try { return work(); }
            finally { _workSlots.Release(); }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        lock (_gate)
            _handedOn = Task.WhenAll(_handedOn, done).ContinueWith(_ =>
            {
                try { handOn(done.GetAwaiter().GetResult()); }
                catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Waits for all work to be handed on; rethrows the first failure.</summary>
    public void Finish()
    {
        Wait();
        if (_failure is not null) ExceptionDispatchInfo.Throw(_failure);
    }

    /// <summary>Waits for all work (so none runs on after a failed write), without rethrowing.</summary>
    public void Dispose() => Wait();

    void Wait()
    {
        Task handedOn;
        lock (_gate) handedOn = _handedOn;
        handedOn.Wait(); // never faults: the hand-on catches
    }
}
