using System.Runtime.InteropServices;
using Qzo.Compute;
using Qzo.Distributed;
using Qzo.Models.Pipeline;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// A model split across ranks by layers (docs/distributed.md §Pipeline): each rank holds its <see cref="Part"/>, and a
/// whole-sequence pass runs GPipe's forward schedule. The batch is cut into micro-batches of whole sequences; for each in
/// turn a rank takes the hidden states from the rank before it (the first embeds the tokens), runs its layers and hands
/// them to the rank after it, so while rank r runs micro-batch m, rank r + 1 runs m − 1. The last rank scores them and,
/// once the batch is done, broadcasts the losses, so every rank returns the same bits (and applies the same update).
/// </summary>
public abstract partial class CausalLanguageModel
{
    byte[] _hiddenMessage = [];

    /// <summary>This rank's stage when the model is split across ranks by layers; null when it runs on one device.</summary>
    public PipelineStage? Pipeline { get; internal set; }

    SequenceLosses PipelineLoss(TokenBatch batch, Perturbation p)
    {
        var stage = Pipeline!;
        var message = new double[2 * batch.Batch]; // the sums, then the counts (exact as doubles): one broadcast
        int microBatches = Math.Min(stage.MicroBatches, batch.Batch);
        for (int m = 0; m < microBatches; m++)
        {
            var (first, count) = RankShard.Range(batch.Batch, m, microBatches);
            var micro = batch.Rows(first, count);
            var (a, hidden, context) = RunStage(micro, p);
            if (hidden is null) continue;
            var losses = Score(micro, a, hidden, context);
            for (int b = 0; b < count; b++) (message[first + b], message[batch.Batch + first + b]) = (losses.Sum[b], losses.Count[b]);
        }
        stage.Communicator.Broadcast(MemoryMarshal.AsBytes(message.AsSpan()), root: stage.LastRank);
        return new SequenceLosses(message[..batch.Batch], message[batch.Batch..].Select(c => (int)c).ToArray());
    }

    /// <summary>The logits at the given positions, computed by the last rank (the batch as one micro-batch) and broadcast.</summary>
    float[][] PipelineLogits(TokenBatch batch, IReadOnlyList<int> positions, Perturbation p)
    {
        var stage = Pipeline!;
        int vocab = Config.VocabSize;
        var flat = new float[(long)positions.Count * vocab];
        var (a, hidden, context) = RunStage(batch, p);
        if (hidden is not null)
        {
            var rows = Project(a, hidden, context, positions);
            for (int r = 0; r < rows.Length; r++) rows[r].CopyTo(flat, (long)r * vocab);
        }
        stage.Communicator.Broadcast(MemoryMarshal.AsBytes(flat.AsSpan()), root: stage.LastRank);
        return Enumerable.Range(0, positions.Count).Select(r => flat.AsSpan(r * vocab, vocab).ToArray()).ToArray();
    }

    /// <summary>
    /// One micro-batch through this rank's part of the decoder (<see cref="RunDecoder"/>, with the neighbours in between):
    /// on the last rank, the final hidden states; elsewhere null, the hidden states having gone on to the next rank.
    /// </summary>
    (ActivationBuffers, DeviceTensor?, ForwardContext) RunStage(TokenBatch batch, Perturbation p)
    {
        int rank = Pipeline!.Rank, rows = batch.Batch * batch.Seq;
        var a = Buffers(rows);
        var context = Context(p);
        Backend.Upload<int>(a.Ids, batch.Ids);
        Backend.Upload<int>(a.Mask, batch.AttentionMask);
        var pass = new DecoderPass(batch.Batch, batch.Seq, WholeSequencePositions(batch), Cache: null);
        BeginPass(pass, a);
        if (Part.HoldsEmbedding) Embed(pass, a, context);
        else ReceiveHidden(a.X, rows, from: rank - 1);
        RunLayers(pass, a, context);
        if (Part.HoldsHead) return (a, Finish(pass, a, context), context);
        SendHidden(a.X, rows, to: rank + 1);
        return (a, null, context);
    }

    /// <summary>The hidden states [rows, hidden] travel as the backend holds them: bf16 on a GPU, fp32 on the CPU.</summary>
    Span<byte> HiddenMessage(int rows)
    {
        long bytes = (long)rows * Config.HiddenSize * Backend.ComputeType.SizeInBytes();
        if (bytes > Array.MaxLength) throw new QzoException(
            $"the hidden states of one micro-batch ({bytes >> 20} MiB) are too large to send; use more micro-batches");
        if (_hiddenMessage.Length < bytes) _hiddenMessage = new byte[bytes];
        return _hiddenMessage.AsSpan(0, (int)bytes);
    }

    void SendHidden(DeviceTensor x, int rows, int to)
    {
        var message = HiddenMessage(rows);
        Backend.Download<byte>(x, message);
        Pipeline!.Communicator.Send(message, to);
    }

    void ReceiveHidden(DeviceTensor x, int rows, int from)
    {
        var message = HiddenMessage(rows);
        Pipeline!.Communicator.Receive(message, from);
        Backend.Upload<byte>(x, message);
    }
}
