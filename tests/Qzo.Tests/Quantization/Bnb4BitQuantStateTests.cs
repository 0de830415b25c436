using System.Text;
using Qzo.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Quantization;

/// <summary>The quant_state JSON exactly as bitsandbytes' pack_dict_to_tensor writes it (Python json.dumps).</summary>
public class Bnb4BitQuantStateTests
{
    [Theory]
    [InlineData(0.1f, "0.10000000149011612")]   // a float32 widened to double, as offset.item() gives it
    [InlineData(1e-5, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(2.5e-7, "2.5e-07")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(123.0, "123.0")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(1.2345678901234568e+17, "1.2345678901234568e+17")]
    [InlineData(-0.03125, "-0.03125")]
    public void FloatsAreWrittenAsPythonReprWritesThem(double value, string expected) => Assert.Equal(expected, PythonFloat.Repr(value));

    [Fact]
    public void NestedStateMatchesJsonDumpsByteForByte()
    {
        var state = new Bnb4BitQuantState(FourBitType.Nf4, 64, "bfloat16", [128, 96], 256, "float32", 0.1f);
        const string expected = """{"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [128, 96]""" +
            """, "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": 0.10000000149011612}""";
        Assert.Equal(expected, Encoding.UTF8.GetString(state.ToJsonBytes()));
        var parsed = Bnb4BitQuantState.Parse(state.ToJsonBytes(), "t");
        Assert.Equal(state with { Shape = parsed.Shape }, parsed);
        Assert.Equal(state.Shape, parsed.Shape);
        Assert.Equal("layer.weight.quant_state.bitsandbytes__fp4", Bnb4BitQuantState.TensorName("layer", FourBitType.Fp4));
    }

    [Fact]
    public void PlainStateHasNoNestedKeys()
    {
        var state = new Bnb4BitQuantState(FourBitType.Fp4, 128, "float16", [8, 4]);
        Assert.Equal("""{"quant_type": "fp4", "blocksize": 128, "dtype": "float16", "shape": [8, 4]}""",
            Encoding.UTF8.GetString(state.ToJsonBytes()));
        Assert.False(Bnb4BitQuantState.Parse(state.ToJsonBytes(), "t").Nested);
    }

    [Theory]
    [InlineData("""{"quant_type": "int4", "blocksize": 64, "dtype": "bfloat16", "shape": [2, 2]}""", "quant_type")]
    [InlineData("""{"quant_type": "nf4", "blocksize": 48, "dtype": "bfloat16", "shape": [2, 2]}""", "blocksize")]
    [InlineData("""{"quant_type": "nf4", "blocksize": 64, "dtype": "int8", "shape": [2, 2]}""", "dtype")]
    [InlineData("""{"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": "2x2"}""", "shape")]
    [InlineData("""{"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [2, 2]""" +
                """, "nested_blocksize": 256, "nested_dtype": "float32"}""", "nested_offset")]
    [InlineData("""not json""", "UTF-8 JSON")]
    public void BadStatesNameTheTensorAndKey(string json, string key)
    {
        var e = Assert.Throws<QzoException>(
            () => Bnb4BitQuantState.Parse(Encoding.UTF8.GetBytes(json), "m.q.weight.quant_state.bitsandbytes__nf4"));
        Assert.Contains("m.q.weight.quant_state.bitsandbytes__nf4", e.Message);
        Assert.Contains(key, e.Message);
    }
}
