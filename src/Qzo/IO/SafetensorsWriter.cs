using System.Buffers.Binary;
using Qzo.Numerics;

namespace Qzo.IO;

public sealed record TensorToWrite(string Name, DType DType, long[] Shape, ReadOnlyMemory<byte> Data);

/// <summary>
/// A tensor whose bytes are made only when the writer reaches it (and dropped once written), so a file of many GB
/// never sits in memory: <see cref="SafetensorsWriter.WriteLazily"/>.
/// </summary>
public sealed record LazyTensorToWrite(string Name, DType DType, long[] Shape, Func<ReadOnlyMemory<byte>> Data)
{
    /// <summary>The bytes its shape and dtype take (null: over 2^63).</summary>
    public long? ByteLength => SafetensorsHeader.ByteSize(Shape, DType);
}

/// <summary>Writes safetensors files atomically (see <see cref="AtomicFile"/>).</summary>
public static unsafe class SafetensorsWriter
{
    const int CopyChunkBytes = 64 << 20;

    /// <summary>
    /// Writes the tensors in the layout of huggingface/safetensors' own writer (see <see cref="CanonicalLayout"/>),
    /// so the same tensors and metadata give the same bytes as Python's <c>save_file</c>.
    /// </summary>
    /// <param name="metadata">Goes to <c>__metadata__</c>; null leaves it out, an empty map writes {}.</param>
    public static void Write(string path, IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        string file = Path.GetFullPath(path);
        foreach (var t in tensors) Validate(file, t.Name, t.DType, t.Shape, t.Data.Length);
        Write(file, tensors.Select(t => (t.Name, t.DType, t.Shape, (long)t.Data.Length)).ToList(), i => tensors[i].Data, metadata);
    }

    /// <summary>
    /// <see cref="Write(string, IReadOnlyList{TensorToWrite}, IReadOnlyDictionary{string, string}?)"/>
    /// for tensors whose bytes are made one at a time, in the file's order, as the writer reaches
    /// them; the same tensors give the same bytes. Only one tensor's bytes are held at a time.
    /// </summary>
    /// <param name="makeAhead">
    /// make the next tensor (on a thread of its own, still one at a time and in order) while this one is written, holding
    /// two tensors' bytes: for tensors whose making takes as long as writing them. A failure to make one surfaces as it
    /// would without, once the tensors before it are written.
    /// </param>
    public static void WriteLazily(string path, IReadOnlyList<LazyTensorToWrite> tensors,
                                   IReadOnlyDictionary<string, string>? metadata = null, bool makeAhead = false)
    {
        string file = Path.GetFullPath(path);
        var entries = new List<(string, DType, long[], long)>(tensors.Count);
        foreach (var t in tensors)
        {
            long bytes = t.ByteLength ?? throw new QzoException($"{file}: tensor '{t.Name}' would take more than 2^63 bytes");
            Validate(file, t.Name, t.DType, t.Shape, bytes);
            entries.Add((t.Name, t.DType, t.Shape, bytes));
        }
        Write(file, entries, i =>
        {
            var data = tensors[i].Data();
            if (data.Length != entries[i].Item4)
                throw new InvalidOperationException($"{file}: tensor '{tensors[i].Name}' was made with {data.Length} bytes, " +
                                                    $"its shape needs {entries[i].Item4}");
            return data;
        }, metadata, makeAhead);
    }

    static void Write(string file, IReadOnlyList<(string Name, DType DType, long[] Shape, long Bytes)> tensors,
                      Func<int, ReadOnlyMemory<byte>> data, IReadOnlyDictionary<string, string>? metadata, bool makeAhead = false)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<CanonicalLayout.Entry>(tensors.Count);
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (!names.Add(t.Name)) throw new QzoException($"{file}: tensor '{t.Name}' is given twice");
            entries.Add(new CanonicalLayout.Entry(t.Name, t.DType, t.Shape, t.Bytes, i));
        }
        var ordered = CanonicalLayout.Order(entries);
        byte[] header = CanonicalLayout.HeaderBytes(ordered, metadata);
        if (header.Length > SafetensorsHeader.MaxHeaderLength)
            throw new QzoException(
                $"{file}: header would be {header.Length} bytes, over the {SafetensorsHeader.MaxHeaderLength}-byte limit readers accept");

        AtomicFile.Write(file, stream =>
        {
            WriteLengthPrefix(stream, header.Length);
            stream.Write(header);
            if (makeAhead) WriteMakingAhead(stream, ordered, data);
            else foreach (var e in ordered) stream.Write(data(e.Source).Span);
        });
    }

    static void WriteMakingAhead(Stream stream, List<CanonicalLayout.Entry> ordered, Func<int, ReadOnlyMemory<byte>> data)
    {
        Task<ReadOnlyMemory<byte>>? next = null;
        try
        {
            for (int i = 0; i < ordered.Count; i++)
            {
                var current = next is null ? data(ordered[i].Source) : next.GetAwaiter().GetResult();
                next = null;
                if (i + 1 < ordered.Count)
                {
                    int source = ordered[i + 1].Source;
                    next = Task.Factory.StartNew(() => data(source), CancellationToken.None, TaskCreationOptions.LongRunning,
                                                 TaskScheduler.Default);
                }
                stream.Write(current.Span);
            }
        }
        finally
        {
            // A write that failed leaves nothing making a tensor behind it.
            if (next is not null) ((IAsyncResult)next).AsyncWaitHandle.WaitOne();
        }
    }

    /// <summary>
    /// Writes <paramref name="source"/> again with the bytes of the named tensors replaced; the header bytes,
    /// tensor order and every other byte stay as they were, so with no replacements the copy is byte-identical.
    /// <paramref name="path"/> may be the source's own path.
    /// </summary>
    public static void WriteReplacing(SafetensorsFile source, string path, IReadOnlyDictionary<string, ReadOnlyMemory<byte>> replacements)
    {
        string file = Path.GetFullPath(path);
        foreach (var (name, data) in replacements)
        {
            var info = source.Get(name);
            if (data.Length != info.ByteLength)
                throw new QzoException(
                    $"{file}: replacement for tensor '{name}' is {data.Length} bytes, but {info.DType.Name()} " +
                    $"{SafetensorsHeader.Text(info.Shape)} in {source.Path} is {info.ByteLength}");
        }

        AtomicFile.Write(file, stream =>
        {
            stream.Write(source.LengthPrefixAndHeader);
            foreach (var t in source.Tensors)
            {
                if (replacements.TryGetValue(t.Name, out var data)) stream.Write(data.Span);
                else CopyFromPointer(stream, source.GetPointer(t.Name, out long length), length);
            }
        });
    }

    static void Validate(string file, string name, DType dtype, long[] shape, long bytes)
    {
        if (name == SafetensorsHeader.MetadataKey)
            throw new QzoException($"{file}: '{SafetensorsHeader.MetadataKey}' is reserved for metadata and cannot name a tensor");
        if (shape.Any(d => d < 0))
            throw new QzoException($"{file}: tensor '{name}' has a negative dimension in shape {SafetensorsHeader.Text(shape)}");
        long? expected = SafetensorsHeader.ByteSize(shape, dtype);
        if (expected != bytes)
            throw new QzoException(
                $"{file}: tensor '{name}' has {bytes} bytes of data, but {dtype.Name()} {SafetensorsHeader.Text(shape)} " +
                $"needs {expected?.ToString() ?? "more than 2^63"}");
    }

    static void WriteLengthPrefix(Stream stream, long headerLength)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)headerLength);
        stream.Write(prefix);
    }

    static void CopyFromPointer(Stream stream, byte* p, long length)
    {
        for (long done = 0; done < length; done += CopyChunkBytes)
            stream.Write(new ReadOnlySpan<byte>(p + done, (int)Math.Min(CopyChunkBytes, length - done)));
    }
}
