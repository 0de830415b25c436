using System.Globalization;
using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Encoders;

/// <summary>How a synthesized encoder is written: the seed of its Gaussian weights, the stored dtype, and shards.</summary>
public sealed record EncoderSynthOptions
{
    public ulong Seed { get; init; }
    /// <summary>F32, BF16 or F16.</summary>
    public DType DType { get; init; } = DType.F32;
    /// <summary>
    /// Largest shard in bytes: weights over it go to model-0000i-of-0000n.safetensors plus model.safetensors.index.json, as
    /// save_pretrained's max_shard_size does (a tensor never splits); null writes one model.safetensors.
    /// </summary>
    public long? MaxShardBytes { get; init; }
}

/// <summary>One tensor of a synthesized encoder: its name, shape and fp32 values (drawn from its index's stream).</summary>
public sealed record SynthesizedTensor(string Name, long[] Shape, Func<int, float[]> Values);

/// <summary>
/// What the encoders' synthesis shares: Gaussian values from the project's own Philox stream (one stream per tensor), and a
/// folder in transformers' layout (config.json with sorted keys; model.safetensors or shards with their index).
/// </summary>
public static class EncoderSynthesis
{
    /// <summary>mean + std · N(0, 1), drawn from stream <paramref name="tensor"/> of <paramref name="seed"/>.</summary>
    public static float[] Gaussian(ulong seed, int tensor, long count, float std, float mean = 0)
    {
        var values = GaussianDirection.Draw(seed ^ 0x454E_4344_0000_0000UL, tensor, count);
        System.Numerics.Tensors.TensorPrimitives.Multiply(values, std, values);
        System.Numerics.Tensors.TensorPrimitives.Add(values, mean, values); // also turns −0 into +0, as mean + std·v did
        return values;
    }

    /// <summary>A float config value as the double it reads as in decimal (1e-5f as 1e-05, not 9.99999974737875e-06).</summary>
    public static double Decimal(float value) =>
        double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>config.json's `dtype` for the stored dtype.</summary>
    public static string DTypeName(EncoderSynthOptions o) =>
        o.DType switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" };

    /// <summary>Writes config.json and the weights into <paramref name="folder"/> (created if missing).</summary>
    public static void Write(string folder, JsonObject config, IReadOnlyList<SynthesizedTensor> tensors, EncoderSynthOptions o)
    {
        if (o.DType is not (DType.F32 or DType.BF16 or DType.F16)) throw new QzoException($"--dtype must be bf16, fp16 or fp32");
        Directory.CreateDirectory(folder);
        var sorted = new JsonObject(config.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), sorted.ToJsonString(Json.Indented) + "\n");
        // Each tensor is drawn only when the writer reaches it, so T5-XXL's 9.5 GB never sit in memory at once.
        var lazy = tensors.Select((t, index) => new LazyTensorToWrite(t.Name, o.DType, t.Shape,
                                                                      () => DTypes.FromSingle(o.DType, t.Values(index)))).ToList();
        ShardedSafetensorsWriter.Write(folder, "model", lazy, o.MaxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
    }
}
