using System.Text;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Tests.IO;

/// <summary>
/// Files as huggingface/safetensors' writer (Python save_file → Rust serialize_to_file) lays them out:
/// tensors by descending dtype then name; compact serde_json header with __metadata__ first and each tensor as
/// {"dtype","shape","data_offsets"}; spaces pad the header to a multiple of 8. Expected bytes are built here by hand.
/// </summary>
public class SafetensorsGoldenTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
    static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void SmallDictMatchesTheReferenceLayoutByteForByte()
    {
        byte[] weight = Floats(1, 2, 3, 4);
        byte[] norm = Floats(0.5f, -0.5f);
        byte[] bias = [0x00, 0x3C, 0x00, 0xC0];               // F16 1, -2
        byte[] ids = [7, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]; // I64 7, -1
        byte[] mask = [1, 0, 1];
        var tensors = new List<TensorToWrite>
        {
            new("model.norm.weight", DType.F32, [2], norm),
            new("mask", DType.Bool, [3], mask),
            new("lm_head.bias", DType.F16, [2], bias),
            new("lm_head.weight", DType.F32, [2, 2], weight),
            new("ids", DType.I64, [2], ids),
        };

        // Descending dtype (I64 > F32 > F16 > BOOL), then by name: ids, lm_head.weight, model.norm.weight, lm_head.bias, mask.
        string json =
            "{\"__metadata__\":{\"format\":\"pt\"}," +
            "\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}," +
            "\"lm_head.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,32]}," +
            "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[32,40]}," +
            "\"lm_head.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[40,44]}," +
            "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[44,47]}}";
        Assert.Equal(354, json.Length);
        byte[] header = Encoding.UTF8.GetBytes(json + "      "); // 6 spaces: 360 = 45 × 8
        byte[] expected = RawSafetensors.Build(header, Concat(ids, weight, norm, bias, mask));

        string path = temp.File("golden.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        Assert.Equal(expected, File.ReadAllBytes(path));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(header, file.HeaderJsonBytes.ToArray());
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(["ids", "lm_head.weight", "model.norm.weight", "lm_head.bias", "mask"], file.Tensors.Select(t => t.Name));
        Assert.Equal([1f, 2f, 3f, 4f], file.ReadFloat32("lm_head.weight"));
        Assert.Equal([1f, -2f], file.ReadFloat32("lm_head.bias"));
        Assert.Equal([7L, -1L], file.Read<long>("ids"));
    }

    [Theory]
    // One F32 [1,2,3] tensor: a 64-byte header needs no padding.
    [InlineData("attn.0", "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", 0)]
    // One character shorter: 63 bytes, one space of padding.
    [InlineData("attn0", "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", 1)]
    public void HeaderIsPaddedWithSpacesToAMultipleOf8(string name, string json, int spaces)
    {
        string path = temp.File("pad.safetensors");
        byte[] data = Floats(0, 1, 2, 3, 4, 5);
        SafetensorsWriter.Write(path, [new TensorToWrite(name, DType.F32, [1, 2, 3], data)]);

        byte[] expected = RawSafetensors.Build(Encoding.UTF8.GetBytes(json + new string(' ', spaces)), data);
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void EmptyDictWithAndWithoutMetadata()
    {
        string path = temp.File("empty.safetensors");
        SafetensorsWriter.Write(path, []);
        Assert.Equal(RawSafetensors.Build(Encoding.UTF8.GetBytes("{}      "), []), File.ReadAllBytes(path));

        SafetensorsWriter.Write(path, [], new Dictionary<string, string> { ["framework"] = "pt" });
        Assert.Equal(RawSafetensors.Build(Encoding.UTF8.GetBytes("{\"__metadata__\":{\"framework\":\"pt\"}}     "), []),
            File.ReadAllBytes(path));
    }

    [Fact]
    public void NamesAreEscapedAsSerdeJsonDoes()
    {
        // serde_json escapes only '"', '\' and control characters (\n by name, others as \u00xx); UTF-8 passes through.
        string name = "é\"\\\n\u0001/<+>";
        string path = temp.File("escape.safetensors");
        SafetensorsWriter.Write(path, [new TensorToWrite(name, DType.U8, [1], new byte[] { 9 })]);

        string json = "{\"é\\\"\\\\\\n\\u0001/<+>\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        Assert.Equal(RawSafetensors.Build(RawSafetensors.PaddedHeader(json), [9]), File.ReadAllBytes(path));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(name, file.Tensors[0].Name);
    }
}
