using System.Text.Json;
using Qzo.Numerics;

namespace Qzo.IO;

/// <summary>
/// Parses and validates a safetensors header the way huggingface/safetensors' reader does
/// (tensor.rs: <c>read_metadata</c>, <c>Metadata::validate</c>), plus the README's rules it leaves to
/// the parser (the header starts with '{', no duplicate names). Every failure is one line naming the file.
/// </summary>
internal static class SafetensorsHeader
{
    public const long MaxHeaderLength = 100_000_000;
    public const string MetadataKey = "__metadata__";

    public sealed record Parsed(IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<TensorInfo> TensorsByOffset);

    /// <param name="file">The file as the messages name it.</param>
    /// <param name="json">The N header bytes, trailing padding included.</param>
    /// <param name="dataLength">Bytes after the header: the tensors must tile exactly this range.</param>
    public static Parsed Parse(string file, byte[] json, long dataLength)
    {
        if (json.Length == 0 || json[0] != (byte)'{')
            throw new QzoException($"{file}: header JSON does not start with '{{' (not a safetensors file?)");

        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new QzoException($"{file}: header is not valid UTF-8");

        JsonDocument document;
        try { document = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new QzoException($"{file}: header is not valid JSON: {OneLine(e.Message)}"); }

        using (document)
        {
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<TensorInfo>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new QzoException($"{file}: header names '{property.Name}' twice");
                if (property.Name == MetadataKey) ReadMetadata(file, property.Value, metadata);
                else tensors.Add(ReadTensor(file, property.Name, property.Value, dataLength));
            }
            tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            CheckTiling(file, tensors, dataLength);
            return new Parsed(metadata, tensors);
        }
    }

    static void ReadMetadata(string file, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null) return; // serde reads null as "no metadata"
        if (value.ValueKind != JsonValueKind.Object)
            throw new QzoException($"{file}: {MetadataKey} must be an object mapping strings to strings, not {Kind(value)}");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new QzoException($"{file}: {MetadataKey} must map strings to strings, but '{entry.Name}' is {Kind(entry.Value)}");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new QzoException($"{file}: {MetadataKey} names '{entry.Name}' twice");
        }
    }

    static TensorInfo ReadTensor(string file, string name, JsonElement value, long dataLength)
    {
        string where = $"{file}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw new QzoException($"{where}: expected an object with dtype, shape and data_offsets, found {Kind(value)}");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new QzoException($"{where}: dtype missing or not a string");
        string dtypeName = dtypeElement.GetString()!;
        if (!DTypes.TryParse(dtypeName, out var dtype))
            throw new QzoException($"{where}: unknown or unsupported dtype '{dtypeName}'");

        if (!value.TryGetProperty("shape", out var shapeElement))
            throw new QzoException($"{where}: shape missing");
        long[] shape = ReadNonNegativeIntegers(shapeElement)
            ?? throw new QzoException($"{where}: shape must be a list of non-negative integers, found {shapeElement.GetRawText()}");

        if (!value.TryGetProperty("data_offsets", out var offsetsElement))
            throw new QzoException($"{where}: data_offsets missing");
        long[]? offsets = ReadNonNegativeIntegers(offsetsElement);
        if (offsets is not { Length: 2 } || offsets[0] > offsets[1])
            throw new QzoException(
                $"{where}: data_offsets must be [begin, end] with 0 <= begin <= end, found {offsetsElement.GetRawText()}");
        long begin = offsets[0], end = offsets[1];

        long expected = ByteSize(shape, dtype)
            ?? throw new QzoException($"{where}: shape {Text(shape)} of {dtype.Name()} overflows a 64-bit byte count");
        if (end - begin != expected)
            throw new QzoException(
                $"{where}: data_offsets [{begin},{end}] hold {end - begin} bytes, but {dtype.Name()} {Text(shape)} needs {expected}");
        if (end > dataLength)
            throw new QzoException($"{where}: data_offsets [{begin},{end}] out of range: the data buffer holds {dataLength} bytes");

        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /// <summary>The tensors, sorted by offset, must cover [0, dataLength) without holes or overlaps.</summary>
    static void CheckTiling(string file, List<TensorInfo> sorted, long dataLength)
    {
        long position = 0;
        TensorInfo? previous = null;
        foreach (var t in sorted)
        {
            if (t.Begin < position)
                throw new QzoException(
                    $"{file}: tensor '{t.Name}' [{t.Begin},{t.End}] overlaps tensor '{previous!.Name}' [{previous.Begin},{previous.End}]");
            if (t.Begin > position)
                throw new QzoException(previous is null
                    ? $"{file}: tensor '{t.Name}' starts at {t.Begin}, leaving a hole: the first tensor must start at 0"
                    : $"{file}: hole of {t.Begin - position} bytes between tensor '{previous.Name}' (ends at {position}) and tensor " +
                        $"'{t.Name}' (starts at {t.Begin})");
            position = t.End;
            previous = t;
        }
        if (position != dataLength)
            throw new QzoException(
                $"{file}: {dataLength - position} bytes after the last tensor are not covered by the header (data buffer holds " +
                $"{dataLength} bytes, tensors end at {position})");
    }

    /// <returns>The integers, or null when the element is not an array of non-negative 64-bit integers.</returns>
    static long[]? ReadNonNegativeIntegers(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array) return null;
        var values = new long[element.GetArrayLength()];
        int i = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0) return null;
            values[i++] = v;
        }
        return values;
    }

    /// <returns>prod(shape) × element size, or null on overflow.</returns>
    internal static long? ByteSize(long[] shape, DType dtype)
    {
        try
        {
            long n = dtype.SizeInBytes();
            foreach (long d in shape) n = checked(n * d);
            return n;
        }
        catch (OverflowException) { return null; }
    }

    internal static string Text(long[] shape) => "[" + string.Join(",", shape) + "]";

    static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object", JsonValueKind.Array => "a list", JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number", JsonValueKind.True or JsonValueKind.False => "a boolean", _ => "null",
    };

    static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
