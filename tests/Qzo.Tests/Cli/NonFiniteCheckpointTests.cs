using Qzo.IO;
using Qzo.Numerics;
using Qzo.Quantization.Bnb;
using Qzo.Tests.Models;

namespace Qzo.Tests.Cli;

/// <summary>
/// NaN/Inf in a checkpoint's floating-point tensors (issue 12, case 7): refused at load time with one line naming the
/// file and tensor, rather than surfacing as a NaN loss or as a learning-rate hint.
/// </summary>
public class NonFiniteCheckpointTests
{
    /// <summary>Sets <paramref name="count"/> values of a tensor to NaN (and one to +Inf when count > 1), in its own dtype.</summary>
    static void Poison(string checkpoint, string tensor, int count)
    {
        string path = Path.Combine(checkpoint, CheckpointTensors.SingleFileName);
        using var file = SafetensorsFile.Open(path);
        var info = file.Get(tensor);
        var bytes = file.GetBytes(tensor).ToArray();
        int size = info.DType.SizeInBytes();
        for (int i = 0; i < count; i++)
        {
            byte[] value = (info.DType, i == 0 || count == 1) switch
            {
                (DType.F32, true) => BitConverter.GetBytes(float.NaN),
                (DType.F32, false) => BitConverter.GetBytes(float.PositiveInfinity),
                (DType.F16, true) => BitConverter.GetBytes(Half.NaN),
                (DType.F16, false) => BitConverter.GetBytes(Half.NegativeInfinity),
                (DType.BF16, true) => [0xC0, 0x7F],
                (DType.BF16, false) => [0x80, 0x7F],
                _ => throw new ArgumentException($"{tensor} is {info.DType}"),
            };
            value.CopyTo(bytes, (i * 7 % (int)info.ElementCount) * size);
        }
        SafetensorsWriter.WriteReplacing(file, path, new Dictionary<string, ReadOnlyMemory<byte>> { [tensor] = bytes });
    }

    static void AssertRefused(TempFolder folder, string model, string tensor, int count)
    {
        string data = TeacherData.Write(folder["data.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);
        string file = Path.Combine(model, CheckpointTensors.SingleFileName);
        string expected = $"{file}: tensor '{tensor}' holds {count} non-finite value{(count == 1 ? "" : "s")} (NaN/Inf)";
        CliAssert.FailsWithOneLine(CliProcess.Run("eval", model, "--data", data, "--device", "cpu"), expected);
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", model, "--train", data, "--steps", "2", "--device", "cpu"), expected);
    }

    [Fact]
    public void GptqScalesWithNaNAndInf()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder);
        Poison(model, "model.layers.0.self_attn.q_proj.scales", 3);
        AssertRefused(folder, model, "model.layers.0.self_attn.q_proj.scales", 3);
    }

    [Fact]
    public void DenseEmbeddingAndNormInBf16()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Dense(folder);
        Poison(model, "model.norm.weight", 1);
        AssertRefused(folder, model, "model.norm.weight", 1);

        string other = TinyModels.Dense(folder, name: "dense-embedding");
        Poison(other, "model.embed_tokens.weight", 2);
        string data = TeacherData.Write(folder["data.jsonl"], rows: 4, length: 8, vocab: 320, seed: 5);
        CliAssert.FailsWithOneLine(CliProcess.Run("finetune", other, "--method", "mezo", "--train", data, "--steps", "2",
                                                  "--device", "cpu"),
                                   "'model.embed_tokens.weight' holds 2 non-finite values");
    }

    [Fact]
    public void BitsAndBytesAbsmaxAndAqlmCodebooks()
    {
        using var folder = new TempFolder();
        string bnb = TinyModels.Bnb4Bit(folder);
        Poison(bnb, "model.layers.1.mlp.down_proj" + Bnb4BitLinearTensors.AbsmaxSuffix, 1);
        AssertRefused(folder, bnb, "model.layers.1.mlp.down_proj.weight.absmax", 1);

        string aqlm = TinyModels.Aqlm(folder);
        Poison(aqlm, "model.layers.0.mlp.up_proj.codebooks", 2);
        AssertRefused(folder, aqlm, "model.layers.0.mlp.up_proj.codebooks", 2);
    }
}
