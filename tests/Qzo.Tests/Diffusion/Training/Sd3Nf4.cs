using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Diffusion.Training;

/// <summary>
/// A copy of a synthesized SD3 pipeline whose transformer stores every nn.Linear as bitsandbytes NF4, as diffusers saves
/// SD3Transformer2DModel under BitsAndBytesConfig(load_in_4bit, nf4): the weight becomes Linear4bit's tensors (quantized
/// by the project's bitsandbytes quantizer), the convolution, positional table, norms and biases stay, and config.json
/// gains the quantization_config.
/// </summary>
static class Sd3Nf4
{
    public static void Quantize(string source, string target, bool doubleQuant)
    {
        CopyFolder(source, target);
        string transformer = Path.Combine(target, "transformer");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(transformer, "config.json")))!.AsObject();
        config["quantization_config"] = new BitsAndBytesConfig(FourBitType.Nf4, doubleQuant, "bfloat16", null).ToJson();
        File.WriteAllText(Path.Combine(transformer, "config.json"), config.ToJsonString());
        string weights = Path.Combine(transformer, CheckpointTensors.DiffusersFileName);
        var tensors = new List<TensorToWrite>();
        using (var file = SafetensorsFile.Open(weights))
            foreach (var t in file.Tensors)
            {
                bool linear = t.Name.EndsWith(".weight", StringComparison.Ordinal) && t.Shape.Length == 2;
                if (!linear)
                {
                    tensors.Add(new TensorToWrite(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray()));
                    continue;
                }
                var quantized = Bnb4BitLinearTensors.Quantize(file.ReadFloat32(t.Name), t.Shape[0], t.Shape[1], FourBitType.Nf4, 64,
                                                              doubleQuant, "bfloat16");
                tensors.AddRange(quantized.ToTensors(t.Name[..^".weight".Length]));
            }
        SafetensorsWriter.Write(weights, tensors);
    }

    static void CopyFolder(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
