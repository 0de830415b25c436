using System.Text;
using Qzo.IO;

namespace Qzo.Tests.IO;

/// <summary>Every header defect is refused at Open with one line naming the file (and the tensor, if any).</summary>
public class SafetensorsValidationTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    const string FileName = "bad.safetensors";

    QzoException OpenFails(byte[] bytes)
    {
        string path = temp.File(FileName);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<QzoException>(() => SafetensorsFile.Open(path));
        Assert.Contains(FileName, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    static string U8(string name, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"U8\",\"shape\":[{end - begin}],\"data_offsets\":[{begin},{end}]}}";

    [Fact]
    public void EmptyFile() => Assert.Contains("empty", OpenFails([]).Message);

    [Fact]
    public void ShorterThan8Bytes() => Assert.Contains("shorter than the 8-byte", OpenFails([2, 0, 0, 0, 0]).Message);

    [Fact]
    public void HeaderLengthOver100MB() =>
        Assert.Contains("exceeds", OpenFails(RawSafetensors.Build("{}", 0, headerLength: 100_000_001)).Message);

    [Fact]
    public void HeaderLengthPastTheEndOfTheFile() =>
        Assert.Contains("truncated", OpenFails(RawSafetensors.Build("{}", 0, headerLength: 3)).Message);

    [Fact]
    public void HeaderLengthNearUInt64MaxIsTooLargeNotAnOverflow() =>
        Assert.Contains("exceeds", OpenFails(RawSafetensors.Build("{}", 0, headerLength: ulong.MaxValue)).Message);

    [Theory]
    [InlineData("{\"a\":")]
    [InlineData("{\"a\":{}")]
    [InlineData("{} x")]
    [InlineData("{\"a\":1,}")]
    public void MalformedJson(string header) => Assert.Contains("not valid JSON", OpenFails(RawSafetensors.Build(header, 0)).Message);

    [Fact]
    public void InvalidUtf8() =>
        Assert.Contains("not valid UTF-8",
            OpenFails(RawSafetensors.Build([(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}'], [])).Message);

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData(" {}")] // the README says the header MUST begin with '{'
    public void NotAnObjectStartingWithBrace(string header) =>
        Assert.Contains("does not start with '{'", OpenFails(RawSafetensors.Build(header, 0)).Message);

    [Fact]
    public void TrailingSpacesAreAccepted()
    {
        string path = temp.File("ok.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build("{" + U8("a", 0, 2) + "}   \t\n", 2));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(2, file.Get("a").ByteLength);
    }

    [Theory]
    [InlineData("{\"__metadata__\":{\"format\":1}}", "'format'")]
    [InlineData("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", "'a'")]
    [InlineData("{\"__metadata__\":\"pt\"}", "__metadata__")]
    [InlineData("{\"__metadata__\":[\"pt\"]}", "__metadata__")]
    public void MetadataNotStringToString(string header, string named)
    {
        var e = OpenFails(RawSafetensors.Build(header, 0));
        Assert.Contains("__metadata__", e.Message);
        Assert.Contains(named, e.Message);
    }

    [Theory]
    [InlineData("F8_E4M3")]
    [InlineData("C64")]
    [InlineData("float32")]
    public void UnknownDType(string dtype)
    {
        var e = OpenFails(RawSafetensors.Build($"{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":[1],\"data_offsets\":[0,1]}}}}", 1));
        Assert.Contains("'w'", e.Message);
        Assert.Contains($"'{dtype}'", e.Message);
    }

    [Theory]
    [InlineData("[-1]")]
    [InlineData("[1.5]")]
    [InlineData("[2.0]")]
    [InlineData("[\"2\"]")]
    [InlineData("2")]
    [InlineData("null")]
    [InlineData("[18446744073709551616]")]
    public void ShapeNotAListOfNonNegativeIntegers(string shape)
    {
        var e = OpenFails(RawSafetensors.Build($"{{\"w\":{{\"dtype\":\"U8\",\"shape\":{shape},\"data_offsets\":[0,2]}}}}", 2));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("shape", e.Message);
    }

    [Theory]
    [InlineData("[2,0]")]
    [InlineData("[0]")]
    [InlineData("[0,2,4]")]
    [InlineData("[-2,0]")]
    [InlineData("{\"begin\":0,\"end\":2}")]
    public void DataOffsetsNotBeginEnd(string offsets)
    {
        var e = OpenFails(RawSafetensors.Build($"{{\"w\":{{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":{offsets}}}}}", 2));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("data_offsets", e.Message);
    }

    [Theory]
    [InlineData("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", "dtype")]
    [InlineData("{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", "shape")]
    [InlineData("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", "data_offsets")]
    [InlineData("{\"w\":[1]}", "expected an object")]
    public void TensorEntryIncomplete(string header, string expected)
    {
        var e = OpenFails(RawSafetensors.Build(header, 1));
        Assert.Contains("'w'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ByteCountDisagreesWithShapeAndDType()
    {
        var e = OpenFails(RawSafetensors.Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("needs 8", e.Message);
    }

    [Fact]
    public void ShapeWhoseByteCountOverflows()
    {
        var e = OpenFails(RawSafetensors.Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("overflows", e.Message);
    }

    [Fact]
    public void OffsetsBeyondTheDataBuffer()
    {
        var e = OpenFails(RawSafetensors.Build("{" + U8("w", 0, 8) + "}", 4));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("out of range", e.Message);
    }

    [Fact]
    public void OverlappingTensors()
    {
        var e = OpenFails(RawSafetensors.Build("{" + U8("a", 0, 4) + "," + U8("b", 2, 6) + "}", 6));
        Assert.Contains("overlaps", e.Message);
        Assert.Contains("'a'", e.Message);
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void HoleBetweenTensors()
    {
        var e = OpenFails(RawSafetensors.Build("{" + U8("a", 0, 4) + "," + U8("b", 6, 10) + "}", 10));
        Assert.Contains("hole", e.Message);
        Assert.Contains("'a'", e.Message);
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void FirstTensorNotAtZero()
    {
        var e = OpenFails(RawSafetensors.Build("{" + U8("a", 2, 4) + "}", 4));
        Assert.Contains("hole", e.Message);
        Assert.Contains("'a'", e.Message);
    }

    [Fact]
    public void BytesAfterTheLastTensor() =>
        Assert.Contains("after the last tensor", OpenFails(RawSafetensors.Build("{" + U8("a", 0, 4) + "}", 6)).Message);

    [Fact]
    public void DataWithNoTensors() =>
        Assert.Contains("after the last tensor", OpenFails(RawSafetensors.Build("{}", 1)).Message);

    [Fact]
    public void DuplicateTensorNames()
    {
        var e = OpenFails(RawSafetensors.Build("{" + U8("w", 0, 4) + "," + U8("w", 4, 8) + "}", 8));
        Assert.Contains("'w' twice", e.Message);
    }

    [Fact]
    public void DuplicateMetadataKeys() =>
        Assert.Contains("'format' twice",
            OpenFails(RawSafetensors.Build("{\"__metadata__\":{\"format\":\"pt\",\"format\":\"np\"}}", 0)).Message);

    [Fact]
    public void DirectoryPath()
    {
        string dir = temp.File(FileName);
        Directory.CreateDirectory(dir);
        var e = Assert.Throws<QzoException>(() => SafetensorsFile.Open(dir));
        Assert.Contains(FileName, e.Message);
        Assert.Contains("folder", e.Message);
    }

    [Fact]
    public void MissingFile()
    {
        var e = Assert.Throws<QzoException>(() => SafetensorsFile.Open(temp.File("nope.safetensors")));
        Assert.Contains("nope.safetensors", e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void OutOfOrderOffsetsAndExtraFieldsAreAccepted()
    {
        // Readers accept any key order; unknown fields in a tensor entry are ignored, as serde does.
        string header = "{" + U8("b", 4, 6) + ",\"a\":{\"data_offsets\":[0,4],\"shape\":[4],\"dtype\":\"U8\",\"extra\":1}," +
                        "\"__metadata__\":{\"k\":\"v\"}}";
        string path = temp.File("ok.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build(Encoding.UTF8.GetBytes(header), [1, 2, 3, 4, 5, 6]));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["a", "b"], file.Tensors.Select(t => t.Name));
        Assert.Equal([5, 6], file.GetBytes("b").ToArray());
        Assert.Equal("v", file.Metadata["k"]);
    }
}
