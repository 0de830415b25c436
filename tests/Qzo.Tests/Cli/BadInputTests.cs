using System.Text;
using System.Text.Json.Nodes;
using Qzo.Models.Architectures;
using Qzo.Tests.Models;

namespace Qzo.Tests.Cli;

/// <summary>
/// Broken checkpoints: `qzo finetune` must fail with one line naming the file (and tensor), exit 1,
/// and leave no output folder (nor a temporary one) behind.
/// </summary>
public class BadInputTests
{
    static void AssertCleanFailure(TempFolder folder, string model, params string[] mustMention)
    {
        string data = TeacherData.Write(folder["train.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);
        var r = CliProcess.Run("finetune", model, "--train", data, "--steps", "1", "--out", folder["out"]);
        Assert.True(r.ExitCode == 1, r.ToString());
        var lines = r.Stderr.Trim().Split('\n');
        Assert.True(lines.Length == 1, $"expected one line, got:\n{r.Stderr}");
        Assert.StartsWith("error: ", lines[0]);
        foreach (var text in mustMention) Assert.Contains(text, lines[0]);
        Assert.False(Directory.Exists(folder["out"]), "an output folder was left behind");
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path, "out.*"));
    }

    static string SafetensorsPath(string model) => Path.Combine(model, "model.safetensors");

    [Fact]
    public void TruncatedSafetensors()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        var bytes = File.ReadAllBytes(SafetensorsPath(model));
        File.WriteAllBytes(SafetensorsPath(model), bytes[..(bytes.Length - 100)]);
        AssertCleanFailure(folder, model, SafetensorsPath(model));
    }

    [Fact]
    public void HeaderOffsetsOutOfRange()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        var header = """{"model.norm.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"x":""" +
            """{"dtype":"F32","shape":[200],"data_offsets":[8,808]}}""";
        WriteRawSafetensors(SafetensorsPath(model), header, dataBytes: 8);
        AssertCleanFailure(folder, model, SafetensorsPath(model), "'x'");
    }

    [Fact]
    public void UnknownDtype()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        var bytes = File.ReadAllBytes(SafetensorsPath(model));
        int at = IndexOf(bytes, "\"dtype\":\"F16\"");
        Encoding.ASCII.GetBytes("\"dtype\":\"Q16\"").CopyTo(bytes, at);
        File.WriteAllBytes(SafetensorsPath(model), bytes);
        AssertCleanFailure(folder, model, SafetensorsPath(model), "Q16");
    }

    [Fact]
    public void ShapeMismatchWithConfig()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        var configPath = Path.Combine(model, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["intermediate_size"] = 128; // the checkpoint's MLP has 96
        File.WriteAllText(configPath, config.ToJsonString());
        AssertCleanFailure(folder, model, SafetensorsPath(model), "model.layers.0.mlp.gate_proj.qweight", "shape");
    }

    [Fact]
    public void MissingTokenizer()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        File.Delete(Path.Combine(model, "tokenizer.json"));
        AssertCleanFailure(folder, model, "tokenizer.json");
    }

    [Fact]
    public void MissingConfigKeyAndUnknownModelType()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        var configPath = Path.Combine(model, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config.Remove("num_hidden_layers");
        File.WriteAllText(configPath, config.ToJsonString());
        AssertCleanFailure(folder, model, configPath, "num_hidden_layers");

        config["num_hidden_layers"] = 2;
        config["model_type"] = "falcon";
        File.WriteAllText(configPath, config.ToJsonString());
        AssertCleanFailure(folder, model, configPath, "falcon");
    }

    [Fact]
    public void UnsupportedArchitectureOptions()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Quantized(folder, TinyModels.Dense(folder, ArchitectureRegistry.Opt, "opt"));
        var configPath = Path.Combine(model, "config.json");
        TinyModels.EditConfig(model, c => c["activation_function"] = "gelu");
        AssertCleanFailure(folder, model, configPath, "activation_function 'gelu'");

        TinyModels.EditConfig(model, c =>
        {
            c["activation_function"] = "relu"; c["architectures"] = new JsonArray("OPTForSequenceClassification");
        });
        AssertCleanFailure(folder, model, configPath, "OPTForSequenceClassification");
    }

    [Fact]
    public void MissingTensor()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        var configPath = Path.Combine(model, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["num_hidden_layers"] = 3; // the file has layers 0 and 1
        File.WriteAllText(configPath, config.ToJsonString());
        AssertCleanFailure(folder, model, "model.layers.2.input_layernorm.weight", "missing");
    }

    static void WriteRawSafetensors(string path, string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        stream.Write(json);
        stream.Write(new byte[dataBytes]);
    }

    static int IndexOf(byte[] haystack, string needle)
    {
        var n = Encoding.ASCII.GetBytes(needle);
        for (int i = 0; i + n.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, n.Length).SequenceEqual(n)) return i;
        throw new InvalidOperationException($"'{needle}' not found");
    }
}
