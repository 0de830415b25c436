using Qzo.Distributed;

namespace Qzo.Training;

/// <summary>
/// How a <see cref="FineTuneLoop{TExample}"/> runs as one of several data-parallel ranks: each rank scores its share of
/// every step's batch, the loss sums are all-reduced, every rank applies the same update, and every
/// <see cref="CheckEvery"/> steps (and after the last) the ranks compare fingerprints of their trainable values.
/// Only rank 0 saves checkpoints; the caller gives the other ranks no metrics file and no outputs.
/// </summary>
public sealed record DataParallel(ICommunicator Communicator, int CheckEvery = 100)
{
    public bool IsRoot => Communicator.Rank == 0;
}
