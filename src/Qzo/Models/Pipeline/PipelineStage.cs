using Qzo.Distributed;

namespace Qzo.Models.Pipeline;

/// <summary>
/// One rank of a pipeline (docs/distributed.md §Pipeline): its communicator, whose rank says which
/// <see cref="ModelPart"/> it loads (<see cref="ModelPart.OfRank"/>), and how many micro-batches a batch is cut into so
/// that the ranks work at the same time on different ones.
/// </summary>
public sealed record PipelineStage
{
    public PipelineStage(ICommunicator communicator, int microBatches)
    {
        if (microBatches < 1) throw new QzoException($"a pipeline needs at least one micro-batch a batch, got {microBatches}");
        Communicator = communicator;
        MicroBatches = microBatches;
    }

    public ICommunicator Communicator { get; }
    public int MicroBatches { get; }
    public int Rank => Communicator.Rank;
    public int LastRank => Communicator.WorldSize - 1;
}
