using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Encoders;

/// <summary>
/// A copy of a synthesized encoder folder with chosen linears stored as bitsandbytes 4-bit (as diffusers' and QZO's
/// BitsAndBytesConfig(load_in_4bit) leaves a text encoder): the linear's weight becomes Linear4bit's tensors and
/// config.json gains the quantization_config.
/// </summary>
static class EncoderQuantization
{
    public static void Nf4(string source, string target, IEnumerable<string> linears, bool doubleQuant)
    {
        var prefixes = linears.ToHashSet(StringComparer.Ordinal);
        Directory.CreateDirectory(target);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "config.json")))!.AsObject();
        config["quantization_config"] = new BitsAndBytesConfig(FourBitType.Nf4, doubleQuant, "float32", null).ToJson();
        File.WriteAllText(Path.Combine(target, "config.json"), config.ToJsonString());
        using var file = SafetensorsFile.Open(Path.Combine(source, CheckpointTensors.SingleFileName));
        var tensors = new List<TensorToWrite>();
        foreach (var t in file.Tensors)
        {
            string prefix = t.Name.EndsWith(".weight", StringComparison.Ordinal) ? t.Name[..^".weight".Length] : "";
            if (!prefixes.Remove(prefix))
            {
                tensors.Add(new TensorToWrite(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray()));
                continue;
            }
            var linear = Bnb4BitLinearTensors.Quantize(file.ReadFloat32(t.Name), t.Shape[0], t.Shape[1], FourBitType.Nf4, 64, doubleQuant,
                                                       "float32");
            tensors.AddRange(linear.ToTensors(prefix));
        }
        Assert.True(prefixes.Count == 0, $"no weight for {string.Join(", ", prefixes)}");
        SafetensorsWriter.Write(Path.Combine(target, CheckpointTensors.SingleFileName), tensors);
    }
}
