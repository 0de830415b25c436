using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Diffusion.Vae;

/// <summary>
/// Writes a random AutoencoderKL folder as diffusers' save_pretrained lays it out (config.json,
/// diffusion_pytorch_model.safetensors), for tests and `qzo synth`. Values keep activations O(1): convolutions and
/// linears Gaussian with std 1/√fan-in, biases small, norm weights 1 ± 0.1, so no tensor is an identity a test could miss.
/// </summary>
public static class VaeSynthesis
{
    /// <summary>SD3's VAE at a test size: two levels (32, 64 channels), 16 latent channels, mid attention, no quant convs.</summary>
    public static VaeConfig Tiny => new()
    {
        BlockOutChannels = [32, 64], LayersPerBlock = 1, LatentChannels = 16, NormGroups = 32,
        UseQuantConv = false, UsePostQuantConv = false, ScalingFactor = 1.5305, ShiftFactor = 0.0609,
    };

    public static void Write(string folder, VaeConfig config, ulong seed, DType dtype = DType.F32)
    {
        if (dtype is not (DType.F32 or DType.BF16 or DType.F16))
            throw new QzoException($"VAE synthesis: dtype {dtype.Name()} is not a float type");
        Directory.CreateDirectory(folder);
        var tensors = VaeLayout.Tensors(config).Select((entry, t) =>
            new LazyTensorToWrite(entry.Name, dtype, entry.Shape, () => DTypes.FromSingle(dtype, Values(entry, t, seed)))).ToList();
        AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson().ToJsonString(Json.Indented) + "\n");
        SafetensorsWriter.WriteLazily(Path.Combine(folder, CheckpointTensors.DiffusersFileName), tensors,
                                      new Dictionary<string, string> { ["format"] = "pt" });
    }

    const int Chunk = 1 << 16;

    static float[] Values(VaeLayout.Entry entry, int tensor, ulong seed)
    {
        long count = entry.Shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        Parallel.For(0, (int)((count + Chunk - 1) / Chunk), chunk =>
        {
            long start = (long)chunk * Chunk;
            var span = values.AsSpan((int)start, (int)Math.Min(Chunk, count - start));
            GaussianDirection.Fill(seed ^ 0x5641_4500_0000_0000UL, tensor, start, span);
        });
        long fanIn = count / entry.Shape[0];
        (float std, float mean) = entry.Kind switch
        {
            VaeLayout.Kind.ConvWeight or VaeLayout.Kind.LinearWeight => (1f / MathF.Sqrt(fanIn), 0f),
            VaeLayout.Kind.NormWeight => (0.1f, 1f),
            VaeLayout.Kind.NormBias => (0.1f, 0f),
            _ => (0.05f, 0f),
        };
        for (long i = 0; i < count; i++) values[i] = mean + std * values[i];
        return values;
    }
}
