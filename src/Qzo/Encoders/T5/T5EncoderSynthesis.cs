using System.Text.Json.Nodes;
using static Qzo.Encoders.EncoderSynthesis;
using static Qzo.Encoders.T5.T5EncoderTensors;

namespace Qzo.Encoders.T5;

/// <summary>
/// A randomly initialised T5EncoderModel folder in transformers' layout, for tests and `qzo synth` (sharded with
/// <see cref="EncoderSynthOptions.MaxShardBytes"/>, as T5-XXL is). Norm weights 1 ± 0.1; q with standard deviation
/// (d_model·d_kv)^−½ as T5's own initialisation (its scores are not scaled), other linears 1/√fan_in; the relative
/// position table with 0.5 so the bias shows in every score.
/// </summary>
public static class T5EncoderSynthesis
{
    public static void Write(string folder, T5EncoderConfig c, EncoderSynthOptions o) =>
        EncoderSynthesis.Write(folder, Config(c, o), Tensors(c, o), o);

    /// <summary>config.json as transformers 5.17 saves the T5Config of a T5EncoderModel.</summary>
    public static JsonObject Config(T5EncoderConfig c, EncoderSynthOptions o)
    {
        var parts = c.FeedForwardProj.Split('-');
        return new JsonObject
        {
            ["architectures"] = new JsonArray("T5EncoderModel"),
            ["classifier_dropout"] = 0.0m,
            ["d_ff"] = c.DFf,
            ["d_kv"] = c.DKv,
            ["d_model"] = c.DModel,
            ["decoder_start_token_id"] = 0,
            ["dense_act_fn"] = c.FeedForwardProj == "gated-gelu" ? "gelu_new" : parts[^1],
            ["dropout_rate"] = 0.1,
            ["dtype"] = DTypeName(o),
            ["eos_token_id"] = c.EosTokenId,
            ["feed_forward_proj"] = c.FeedForwardProj,
            ["initializer_factor"] = 1.0m, // decimal: written "1.0", as transformers' strict config wants a float
            ["is_encoder_decoder"] = true,
            ["is_gated_act"] = c.IsGated,
            ["layer_norm_epsilon"] = Decimal(c.LayerNormEps),
            ["model_type"] = T5EncoderConfig.ModelType,
            ["num_decoder_layers"] = c.Layers,
            ["num_heads"] = c.Heads,
            ["num_layers"] = c.Layers,
            ["pad_token_id"] = c.PadTokenId,
            ["relative_attention_max_distance"] = c.RelativeMaxDistance,
            ["relative_attention_num_buckets"] = c.RelativeBuckets,
            ["tie_word_embeddings"] = false,
            ["transformers_version"] = "5.17.0",
            ["use_cache"] = true,
            ["vocab_size"] = c.VocabSize,
        };
    }

    public static IReadOnlyList<SynthesizedTensor> Tensors(T5EncoderConfig c, EncoderSynthOptions o)
    {
        int d = c.DModel, inner = c.InnerDim, ff = c.DFf;
        var list = new List<SynthesizedTensor> { new(Shared, [c.VocabSize, d], t => Gaussian(o.Seed, t, (long)c.VocabSize * d, 1f)) };
        void Norm(string name) => list.Add(new(name, [d], t => Gaussian(o.Seed, t, d, 0.1f, mean: 1)));
        void Linear(string prefix, int outF, int inF, float std) =>
            list.Add(new(prefix + ".weight", [outF, inF], t => Gaussian(o.Seed, t, (long)outF * inF, std)));
        for (int i = 0; i < c.Layers; i++)
        {
            string p = Block(i);
            Norm(p + AttentionNorm);
            Linear(p + Q, inner, d, 1f / MathF.Sqrt((float)d * c.DKv));
            Linear(p + K, inner, d, 1f / MathF.Sqrt(d));
            Linear(p + V, inner, d, 1f / MathF.Sqrt(d));
            Linear(p + O, d, inner, 1f / MathF.Sqrt(inner));
            if (i == 0)
                list.Add(new(p + RelativeBias, [c.RelativeBuckets, c.Heads],
                             t => Gaussian(o.Seed, t, (long)c.RelativeBuckets * c.Heads, 0.5f)));
            Norm(p + MlpNorm);
            if (c.IsGated) { Linear(p + Wi0, ff, d, 1f / MathF.Sqrt(d)); Linear(p + Wi1, ff, d, 1f / MathF.Sqrt(d)); }
            else Linear(p + Wi, ff, d, 1f / MathF.Sqrt(d));
            Linear(p + Wo, d, ff, 1f / MathF.Sqrt(ff));
        }
        Norm(FinalNorm);
        return list;
    }
}
