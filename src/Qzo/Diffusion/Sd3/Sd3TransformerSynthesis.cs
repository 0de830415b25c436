using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Diffusion.Sd3;

/// <summary>
/// Writes a random SD3Transformer2DModel folder in diffusers' layout (config.json with _class_name, and
/// diffusion_pytorch_model.safetensors) for tests and `qzo synth`. Every tensor is random so a test that ignored one would
/// notice: linear weights N(0, 1/in), biases N(0, 0.1²), RMSNorm weights 1 + N(0, 0.1²); the positional table is the
/// sin-cos table diffusers computes and stores (<see cref="Sd3PositionTable"/>). Draws come from the project's Philox
/// stream, one stream per tensor, so a seed gives the same model everywhere.
/// </summary>
public static class Sd3TransformerSynthesis
{
    public const float BiasStd = 0.1f;

    /// <param name="maxShardBytes">diffusers' max_shard_size (10 GB by default there): larger models go to
    /// diffusion_pytorch_model-0000i-of-0000n.safetensors and their index; null writes one file.</param>
    public static void Write(string folder, Sd3TransformerConfig config, DType dtype, ulong seed, bool overwrite = false,
                             long? maxShardBytes = null)
    {
        if (dtype is not (DType.F32 or DType.BF16 or DType.F16))
            throw new QzoException("the transformer's dtype must be fp32, bf16 or fp16");
        // Drawn tensor by tensor as the writer reaches them: SD3.5 Large's 16 GB never sit in memory at once.
        var tensors = Tensors(config).Select((t, index) =>
            new LazyTensorToWrite(t.Name, dtype, t.Shape, () => DTypes.FromSingle(dtype, t.Values(seed, index)))).ToList();
        OutputFolder.Write(folder, overwrite, temporary =>
        {
            AtomicFile.WriteAllText(Path.Combine(temporary, "config.json"), config.ToJson().ToJsonString(Json.Indented) + "\n");
            ShardedSafetensorsWriter.Write(temporary, Path.GetFileNameWithoutExtension(CheckpointTensors.DiffusersFileName), tensors,
                                           maxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
        });
    }

    /// <summary>One tensor to write: its name, its shape, and how its values are drawn from (seed, tensor index).</summary>
    public sealed record SynthTensor(string Name, long[] Shape, Func<ulong, int, float[]> Values);

    /// <summary>Every tensor by diffusers' names (the loader's list: a synthesized folder loads with none left over).</summary>
    public static IEnumerable<SynthTensor> Tensors(Sd3TransformerConfig c)
    {
        int d = c.InnerDim, m = c.PosEmbedMaxSize, patchInputs = c.InChannels * c.PatchSize * c.PatchSize;
        yield return new("pos_embed.proj.weight", [d, c.InChannels, c.PatchSize, c.PatchSize],
                         (seed, t) => Gaussian(seed, t, (long)d * patchInputs, 1 / MathF.Sqrt(patchInputs)));
        yield return Bias("pos_embed.proj", d);
        yield return new("pos_embed.pos_embed", [1, (long)m * m, d], (_, _) => Sd3PositionTable.Compute(d, m, c.PositionBaseSize));
        foreach (var t in Linear("time_text_embed.timestep_embedder.linear_1", Sd3TransformerConfig.TimestepChannels, d)) yield return t;
        foreach (var t in Linear("time_text_embed.timestep_embedder.linear_2", d, d)) yield return t;
        foreach (var t in Linear("time_text_embed.text_embedder.linear_1", c.PooledProjectionDim, d)) yield return t;
        foreach (var t in Linear("time_text_embed.text_embedder.linear_2", d, d)) yield return t;
        foreach (var t in Linear("context_embedder", c.JointAttentionDim, d)) yield return t;
        for (int i = 0; i < c.Layers; i++)
            foreach (var t in Block(c, i)) yield return t;
        foreach (var t in Linear("norm_out.linear", d, 2 * d)) yield return t;
        foreach (var t in Linear("proj_out", d, c.PatchOutputWidth)) yield return t;
    }

    static IEnumerable<SynthTensor> Block(Sd3TransformerConfig c, int i)
    {
        int d = c.InnerDim;
        string prefix = $"transformer_blocks.{i}.";
        bool dual = c.IsDual(i), last = c.IsContextPreOnly(i);
        var linears = new List<(string Name, int In, int Out)>
        {
            ("norm1.linear", d, (dual ? 9 : 6) * d), ("norm1_context.linear", d, (last ? 2 : 6) * d),
            ("attn.to_q", d, d), ("attn.to_k", d, d), ("attn.to_v", d, d), ("attn.to_out.0", d, d),
            ("attn.add_q_proj", d, d), ("attn.add_k_proj", d, d), ("attn.add_v_proj", d, d),
            ("ff.net.0.proj", d, 4 * d), ("ff.net.2", 4 * d, d),
        };
        var norms = new List<string>();
        if (c.QkRmsNorm) norms.AddRange(["attn.norm_q", "attn.norm_k", "attn.norm_added_q", "attn.norm_added_k"]);
        if (!last) linears.AddRange([("attn.to_add_out", d, d), ("ff_context.net.0.proj", d, 4 * d), ("ff_context.net.2", 4 * d, d)]);
        if (dual)
        {
            linears.AddRange([("attn2.to_q", d, d), ("attn2.to_k", d, d), ("attn2.to_v", d, d), ("attn2.to_out.0", d, d)]);
            if (c.QkRmsNorm) norms.AddRange(["attn2.norm_q", "attn2.norm_k"]);
        }
        foreach (var (name, inputs, outputs) in linears)
            foreach (var t in Linear(prefix + name, inputs, outputs)) yield return t;
        foreach (var name in norms)
            yield return new(prefix + name + ".weight", [c.HeadDim],
                             (seed, t) => Gaussian(seed, t, c.HeadDim, 0.1f).Select(v => 1 + v).ToArray());
    }

    static IEnumerable<SynthTensor> Linear(string prefix, int inputs, int outputs) =>
    [
        new(prefix + ".weight", [outputs, inputs], (seed, t) => Gaussian(seed, t, (long)outputs * inputs, 1 / MathF.Sqrt(inputs))),
        Bias(prefix, outputs),
    ];

    static SynthTensor Bias(string prefix, int outputs) =>
        new(prefix + ".bias", [outputs], (seed, t) => Gaussian(seed, t, outputs, BiasStd));

    static float[] Gaussian(ulong seed, int tensor, long count, float std)
    {
        var values = GaussianDirection.Draw(seed ^ 0x5344_3354_0000_0000UL, tensor, count);
        System.Numerics.Tensors.TensorPrimitives.Multiply(values, std, values);
        return values;
    }
}
