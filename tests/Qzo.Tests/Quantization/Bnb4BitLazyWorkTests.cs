using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Quantization;

/// <summary>
/// Bnb4BitLazyWork: work run side by side in the background is handed on in the order it was handed in, however it
/// finishes; at most the limit runs at once; a failure surfaces in Finish; the one weight buffer is lent once at a time.
/// </summary>
public class Bnb4BitLazyWorkTests
{
    [Fact]
    public void WorkIsHandedOnInTheOrderItWasHandedInWithAtMostTheLimitRunning()
    {
        using var work = new Bnb4BitLazyWork(16, sideBySide: 3);
        var handedOn = new List<int>();
        int running = 0, most = 0;
        for (int i = 0; i < 12; i++)
        {
            int item = i;
            work.Then(() =>
            {
                most = Math.Max(most, Interlocked.Increment(ref running));
                Thread.Sleep(item % 3 == 0 ? 60 : 5); // every third one finishes after the ones handed in after it
                Interlocked.Decrement(ref running);
                return item * 10;
            }, result => handedOn.Add(result));
        }
        work.Finish();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i * 10), handedOn);
        Assert.InRange(most, 2, 3);
    }

    [Fact]
    public void AFailureSurfacesInFinishAndTheWorkAfterItStillRuns()
    {
        var work = new Bnb4BitLazyWork(16, sideBySide: 2);
        var handedOn = new List<int>();
        work.Then<int>(() => throw new QzoException("summing failed"), handedOn.Add);
        work.Then(() => 2, handedOn.Add);
        work.Then(() => 3, _ => throw new InvalidOperationException("second failure"));
        Assert.Equal("summing failed", Assert.Throws<QzoException>(work.Finish).Message);
        Assert.Equal([2], handedOn);
        work.Dispose();
    }

    [Fact]
    public async Task TheBufferIsLentOnceAtATimeAndHoldsTheLargestWeight()
    {
        using var work = new Bnb4BitLazyWork(100);
        var buffer = work.RentWeight(100);
        Assert.True(buffer.Length >= 100);
        var second = Task.Run(() => work.RentWeight(10));
        Assert.NotSame(second, await Task.WhenAny(second, Task.Delay(100)));
        work.ReturnWeight(buffer);
        Assert.Same(buffer, await second);
        work.ReturnWeight(buffer);
        Assert.Throws<ArgumentOutOfRangeException>(() => work.RentWeight(101));
        Assert.Throws<ArgumentException>(() => work.ReturnWeight(new float[100]));
    }
}
