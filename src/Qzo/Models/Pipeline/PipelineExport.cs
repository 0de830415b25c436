using System.Buffers.Binary;
using System.Text;
using Qzo.Distributed;

namespace Qzo.Models.Pipeline;

/// <summary>
/// Saves a model trained as a pipeline as one checkpoint in its input's format (docs/distributed.md §Pipeline): every rank
/// encodes the trained tensors of its part, the other ranks send theirs to rank 0, and rank 0 writes the folder exactly as
/// a one-device run does (<see cref="CheckpointExporter"/>: same shards, headers and config; only trained tensors change),
/// so the output loads like any other checkpoint, on one device or split again.
/// </summary>
public static class PipelineExport
{
    /// <summary>
    /// Every rank calls it; rank 0's <paramref name="output"/> decides (null: nothing is saved, and the others send nothing).
    /// </summary>
    /// <returns>on rank 0 when it saved, the encoding's error over every rank's tensors; else null.</returns>
    public static ExportSummary? Export(Checkpoint source, CausalLanguageModel model, string? output, bool overwrite = false)
    {
        var communicator = model.Pipeline?.Communicator
            ?? throw new ArgumentException("the model is not a pipeline rank's part; use CheckpointExporter", nameof(model));
        var saving = new byte[] { (byte)(output is null ? 0 : 1) };
        communicator.Broadcast(saving, root: 0);
        if (saving[0] == 0) return null;
        var own = CheckpointExporter.Encode(model.Backend, model.AllLinears, model.Trainable);
        if (communicator.Rank != 0)
        {
            SendTo(communicator, own);
            return null;
        }
        var tensors = new Dictionary<string, ReadOnlyMemory<byte>>(own.Tensors, StringComparer.Ordinal);
        double maxError = own.Summary.MaxEncodingError, maxRelative = own.Summary.MaxRelativeEncodingError;
        for (int rank = 1; rank < communicator.WorldSize; rank++)
        {
            var theirs = ReceiveFrom(communicator, rank);
            foreach (var (name, bytes) in theirs.Tensors) tensors.TryAdd(name, bytes); // a tied embedding comes from two ranks, equal
            maxError = Math.Max(maxError, theirs.Summary.MaxEncodingError);
            maxRelative = Math.Max(maxRelative, theirs.Summary.MaxRelativeEncodingError);
        }
        CheckpointExporter.Write(source, tensors, output!, overwrite);
        return new ExportSummary(maxError, maxRelative);
    }

    // Messages: (count, max error, max relative error); then per tensor (name length, byte length), the name, the bytes.
    static void SendTo(ICommunicator communicator, EncodedTensors encoded)
    {
        var head = new byte[24];
        BinaryPrimitives.WriteInt64LittleEndian(head, encoded.Tensors.Count);
        BinaryPrimitives.WriteDoubleLittleEndian(head.AsSpan(8), encoded.Summary.MaxEncodingError);
        BinaryPrimitives.WriteDoubleLittleEndian(head.AsSpan(16), encoded.Summary.MaxRelativeEncodingError);
        communicator.Send(head, 0);
        foreach (var (name, bytes) in encoded.Tensors)
        {
            var utf8 = Encoding.UTF8.GetBytes(name);
            var lengths = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(lengths, utf8.Length);
            BinaryPrimitives.WriteInt32LittleEndian(lengths.AsSpan(4), bytes.Length);
            communicator.Send(lengths, 0);
            communicator.Send(utf8, 0);
            communicator.Send(bytes.Span, 0);
        }
    }

    static EncodedTensors ReceiveFrom(ICommunicator communicator, int rank)
    {
        var head = new byte[24];
        communicator.Receive(head, rank);
        long count = BinaryPrimitives.ReadInt64LittleEndian(head);
        var tensors = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            var lengths = new byte[8];
            communicator.Receive(lengths, rank);
            var utf8 = new byte[BinaryPrimitives.ReadInt32LittleEndian(lengths)];
            var bytes = new byte[BinaryPrimitives.ReadInt32LittleEndian(lengths.AsSpan(4))];
            communicator.Receive(utf8, rank);
            communicator.Receive(bytes, rank);
            tensors[Encoding.UTF8.GetString(utf8)] = bytes;
        }
        return new EncodedTensors(tensors, new ExportSummary(BinaryPrimitives.ReadDoubleLittleEndian(head.AsSpan(8)),
            BinaryPrimitives.ReadDoubleLittleEndian(head.AsSpan(16))));
    }
}
