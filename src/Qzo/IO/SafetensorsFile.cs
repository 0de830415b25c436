using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using Qzo.Numerics;

namespace Qzo.IO;

/// <summary>
/// A safetensors file, memory-mapped read-only. <see cref="Open"/> validates the whole header before any
/// tensor can be reached, so every offset handed out afterwards lies inside the mapping.
/// Spans and pointers stay valid until <see cref="Dispose"/>.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    const int LengthPrefixBytes = 8;
    const int ConversionChunkElements = 1 << 18;

    readonly MemoryMappedFile map;
    readonly MemoryMappedViewAccessor view;
    readonly byte* fileStart;
    readonly int headerLength;
    readonly Dictionary<string, TensorInfo> byName;
    bool disposed;

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>All tensors, in data-offset order.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    SafetensorsFile(string path, MemoryMappedFile map, int headerLength, SafetensorsHeader.Parsed header)
    {
        Path = path;
        this.map = map;
        this.headerLength = headerLength;
        Metadata = header.Metadata;
        Tensors = header.TensorsByOffset;
        byName = header.TensorsByOffset.ToDictionary(t => t.Name, StringComparer.Ordinal);
        view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        fileStart = p + view.PointerOffset;
    }

    public static SafetensorsFile Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new QzoException($"{full}: is a folder, not a safetensors file");
        if (!File.Exists(full)) throw new QzoException($"{full}: safetensors file not found");

        FileStream stream;
        try { stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new QzoException($"{full}: cannot open: {e.Message}", e); }

        MemoryMappedFile? map = null;
        try
        {
            long fileLength = stream.Length;
            if (fileLength == 0) throw new QzoException($"{full}: file is empty (0 bytes), not a safetensors file");
            if (fileLength < LengthPrefixBytes)
                throw new QzoException($"{full}: file is {fileLength} bytes, shorter than the 8-byte header length");

            Span<byte> prefix = stackalloc byte[LengthPrefixBytes];
            stream.ReadExactly(prefix);
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (n > SafetensorsHeader.MaxHeaderLength)
                throw new QzoException(
                    $"{full}: header length {n} exceeds the {SafetensorsHeader.MaxHeaderLength}-byte limit (corrupt or not a safetensors " +
                    "file)");
            if (LengthPrefixBytes + (long)n > fileLength)
                throw new QzoException($"{full}: truncated: header length {n} runs past the end of the {fileLength}-byte file");

            var json = new byte[(int)n];
            stream.ReadExactly(json);
            long dataLength = fileLength - LengthPrefixBytes - (long)n;
            var header = SafetensorsHeader.Parse(full, json, dataLength);

            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None,
                leaveOpen: false);
            return new SafetensorsFile(full, map, (int)n, header);
        }
        catch
        {
            if (map is not null) map.Dispose();
            else stream.Dispose();
            throw;
        }
    }

    /// <summary>The N header bytes as stored (JSON plus any trailing padding).</summary>
    public ReadOnlySpan<byte> HeaderJsonBytes => new(Start + LengthPrefixBytes, headerLength);

    /// <summary>The first 8 + N bytes of the file: the header length and the header.</summary>
    internal ReadOnlySpan<byte> LengthPrefixAndHeader => new(Start, LengthPrefixBytes + headerLength);

    public bool Contains(string name) => byName.ContainsKey(name);

    public TensorInfo Get(string name) =>
        byName.TryGetValue(name, out var info) ? info : throw new QzoException($"{Path}: no tensor named '{name}'");

    public byte* GetPointer(string name, out long byteLength)
    {
        var info = Get(name);
        byteLength = info.ByteLength;
        return DataStart + info.Begin;
    }

    /// <summary>The tensor's raw bytes; use <see cref="GetPointer"/> for tensors over 2 GiB.</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        byte* p = GetPointer(name, out long length);
        if (length > int.MaxValue)
            throw new QzoException(
                $"{Path}: tensor '{name}' is {length} bytes, more than a span can hold (2 GiB); read it through GetPointer");
        return new ReadOnlySpan<byte>(p, (int)length);
    }

    /// <summary>
    /// <see cref="GetBytes"/> as a <see cref="ReadOnlyMemory{T}"/> over the mapping, without a copy: for a writer that
    /// copies a tensor as it is, used before <see cref="Dispose"/>.
    /// </summary>
    public ReadOnlyMemory<byte> GetMemory(string name)
    {
        int length = GetBytes(name).Length;
        return new MappedMemory(GetPointer(name, out _), length).Memory;
    }

    /// <summary>Reads a floating-point tensor (F32, F16, BF16, F64), widened or narrowed to float32.</summary>
    public float[] ReadFloat32(string name)
    {
        var info = FloatTensor(name);
        var result = NewArray<float>(info);
        ConvertToSingle(info, result);
        return result;
    }

    /// <summary>
    /// Values [<paramref name="start"/>, start + destination.Length) of <see cref="ReadFloat32(string)"/>, converted on the
    /// calling thread: callers working on a tensor in parallel chunks read each chunk as they reach it.
    /// </summary>
    public void ReadFloat32(string name, long start, Span<float> destination)
    {
        var info = FloatTensor(name);
        if (start < 0 || start + destination.Length > info.ElementCount)
            throw new ArgumentOutOfRangeException(nameof(start),
                $"{Path}: values [{start}, {start + destination.Length}) of tensor '{name}', which has {info.ElementCount}");
        int elementSize = info.DType.SizeInBytes();
        DTypes.ToSingle(info.DType, new ReadOnlySpan<byte>(DataStart + info.Begin + start * elementSize, destination.Length * elementSize),
                        destination);
    }

    TensorInfo FloatTensor(string name)
    {
        var info = Get(name);
        if (!info.DType.IsFloat())
            throw new QzoException($"{Path}: tensor '{name}' is {info.DType.Name()}, not a floating-point type (F32, F16, BF16, F64)");
        return info;
    }

    /// <summary>Converts in chunks, in parallel for a large tensor (each chunk on its own: the result does not depend on it).</summary>
    void ConvertToSingle(TensorInfo info, Span<float> destination)
    {
        int elementSize = info.DType.SizeInBytes();
        nint source = (nint)(DataStart + info.Begin);
        int count = destination.Length, chunks = (count + ConversionChunkElements - 1) / ConversionChunkElements;
        fixed (float* to = destination)
        {
            nint target = (nint)to;
            void Chunk(int c)
            {
                int start = c * ConversionChunkElements, length = Math.Min(ConversionChunkElements, count - start);
                DTypes.ToSingle(info.DType, new ReadOnlySpan<byte>((byte*)source + (long)start * elementSize, length * elementSize),
                                new Span<float>((float*)target + start, length));
            }
            if (chunks <= 1) Chunk(0);
            else Parallel.For(0, chunks, Chunk);
        }
    }

    public int[] ReadInt32(string name)
    {
        var info = Get(name);
        if (info.DType != DType.I32)
            throw new QzoException($"{Path}: tensor '{name}' is {info.DType.Name()}, expected I32");
        return Read<int>(name);
    }

    /// <summary>Copies the raw elements; <typeparamref name="T"/> must be as wide as the tensor's dtype.</summary>
    public T[] Read<T>(string name) where T : unmanaged
    {
        var info = Get(name);
        if (sizeof(T) != info.DType.SizeInBytes())
            throw new QzoException(
                $"{Path}: tensor '{name}' is {info.DType.Name()} ({info.DType.SizeInBytes()}-byte elements), cannot read it as " +
                $"{typeof(T).Name} ({sizeof(T)} bytes)");
        var result = NewArray<T>(info);
        fixed (T* destination = result)
            Buffer.MemoryCopy(DataStart + info.Begin, destination, info.ByteLength, info.ByteLength);
        return result;
    }

    T[] NewArray<T>(TensorInfo info)
    {
        if (info.ElementCount > Array.MaxLength)
            throw new QzoException(
                $"{Path}: tensor '{info.Name}' has {info.ElementCount} elements, more than one array can hold; read it through GetPointer");
        return new T[info.ElementCount];
    }

    byte* Start
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return fileStart;
        }
    }

    byte* DataStart => Start + LengthPrefixBytes + headerLength;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }

    public override string ToString() => Path;
}
