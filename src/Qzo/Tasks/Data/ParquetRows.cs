using System.Collections;
using System.Text.Json.Nodes;
using Parquet.Schema;
using Parquet.Serialization;
using Qzo.IO;

namespace Qzo.Tasks.Data;

/// <summary>
/// Rows of a Parquet file (e.g. the Hugging Face Hub's conversion of a dataset), read with Parquet.Net and
/// turned into JSON by the file's schema: structs become objects, lists arrays (an empty list is [], which the
/// reader reports as a missing key), strings, integers, floats and booleans stay what they are.
/// </summary>
public static class ParquetRows
{
    public static IReadOnlyList<TaskRow> Read(string path)
    {
        ParquetSchema schema;
        IList<Dictionary<string, object>> data;
        using var stream = TextFiles.OpenRead(path, "data file");
        if (!HasMarkers(stream)) throw new QzoException($"{path}: not a readable Parquet file (it does not start and end with PAR1)");
        try
        {
            var result = ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult();
            schema = result.Schema;
            data = result.Data;
        }
        // Parquet.Net trusts the file's lengths and offsets, so garbage surfaces as whatever they lead to (Overflow,
        // IndexOutOfRange, EndOfStream, OutOfMemory, NullReference...); all of them mean the file, not Qzo, is broken.
        catch (Exception e) when (e is not QzoException)
        {
            throw new QzoException($"{path}: corrupt Parquet file ({e.GetType().Name}: {FirstLine(e.Message)})");
        }
        var rows = new List<TaskRow>(data.Count);
        for (int i = 0; i < data.Count; i++)
        {
            var obj = new JsonObject();
            foreach (var field in schema.Fields) obj[field.Name] = Convert(field, data[i].GetValueOrDefault(field.Name));
            rows.Add(new TaskRow(obj, $"{path}: row {i}"));
        }
        return rows;
    }

    static bool HasMarkers(FileStream stream)
    {
        Span<byte> head = stackalloc byte[4], tail = stackalloc byte[4];
        if (stream.Length < 12) return false;
        stream.ReadExactly(head);
        stream.Position = stream.Length - 4;
        stream.ReadExactly(tail);
        stream.Position = 0;
        return head.SequenceEqual("PAR1"u8) && tail.SequenceEqual("PAR1"u8);
    }

    static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    static JsonNode? Convert(Field field, object? value) => field switch
    {
        StructField s => Struct(s, value as IDictionary<string, object>),
        ListField l => value is null ? new JsonArray()
            : new JsonArray(((IEnumerable)value).Cast<object?>().Select(v => Convert(l.Item, v)).ToArray()),
        MapField m => value is null ? new JsonObject() : Map(m, (IDictionary)value),
        _ => Scalar(value),
    };

    static JsonObject Struct(StructField field, IDictionary<string, object>? value)
    {
        var obj = new JsonObject();
        foreach (var child in field.Fields) obj[child.Name] = Convert(child, value is not null && value.TryGetValue(child.Name,
            out var v) ? v : null);
        return obj;
    }

    static JsonObject Map(MapField field, IDictionary value)
    {
        var obj = new JsonObject();
        foreach (DictionaryEntry kv in value) obj[kv.Key.ToString()!] = Convert(field.Value, kv.Value);
        return obj;
    }

    static JsonNode? Scalar(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        ReadOnlyMemory<char> m => JsonValue.Create(m.ToString()),
        bool b => JsonValue.Create(b),
        sbyte or byte or short or ushort or int or uint or long => JsonValue.Create(System.Convert.ToInt64(value)),
        ulong u => JsonValue.Create(u),
        float f => JsonValue.Create((double)f),
        double d => JsonValue.Create(d),
        decimal d => JsonValue.Create(d),
        byte[] bytes => JsonValue.Create(System.Convert.ToBase64String(bytes)),
        _ => JsonValue.Create(value.ToString()),
    };
}
