using System.Text.Json.Nodes;
using static Qzo.Encoders.Clip.ClipTextTensors;
using static Qzo.Encoders.EncoderSynthesis;

namespace Qzo.Encoders.Clip;

/// <summary>
/// A randomly initialised CLIPTextModel(WithProjection) folder in transformers' layout, for tests and `qzo synth`: every
/// LayerNorm and bias random (weights 1 ± 0.1, biases ±0.1), linears with standard deviation 1/√fan_in and embeddings
/// with 0.5, so activations stay near unit scale and a test that ignored any tensor would notice.
/// </summary>
public static class ClipTextSynthesis
{
    public static void Write(string folder, ClipTextConfig c, EncoderSynthOptions o) =>
        EncoderSynthesis.Write(folder, Config(c, o), Tensors(c, o), o);

    /// <summary>config.json as transformers 5.17 saves a CLIPTextConfig.</summary>
    public static JsonObject Config(ClipTextConfig c, EncoderSynthOptions o) => new()
    {
        ["architectures"] = new JsonArray(c.HasProjection ? ClipTextConfig.WithProjectionClass : ClipTextConfig.PlainClass),
        ["attention_dropout"] = 0.0m,
        ["bos_token_id"] = c.BosTokenId,
        ["dropout"] = 0.0m,
        ["dtype"] = DTypeName(o),
        ["eos_token_id"] = c.EosTokenId,
        ["hidden_act"] = c.HiddenAct,
        ["hidden_size"] = c.HiddenSize,
        ["initializer_factor"] = 1.0m, // decimal: written "1.0", as transformers' strict config wants a float
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = c.IntermediateSize,
        ["layer_norm_eps"] = Decimal(c.LayerNormEps),
        ["max_position_embeddings"] = c.MaxPositions,
        ["model_type"] = ClipTextConfig.ModelType,
        ["num_attention_heads"] = c.Heads,
        ["num_hidden_layers"] = c.Layers,
        ["pad_token_id"] = c.PadTokenId,
        ["projection_dim"] = c.ProjectionDim,
        ["transformers_version"] = "5.17.0",
        ["vocab_size"] = c.VocabSize,
    };

    public static IReadOnlyList<SynthesizedTensor> Tensors(ClipTextConfig c, EncoderSynthOptions o)
    {
        int h = c.HiddenSize, f = c.IntermediateSize;
        var list = new List<SynthesizedTensor>
        {
            new(TokenEmbedding, [c.VocabSize, h], t => Gaussian(o.Seed, t, (long)c.VocabSize * h, 0.5f)),
            new(PositionEmbedding, [c.MaxPositions, h], t => Gaussian(o.Seed, t, (long)c.MaxPositions * h, 0.5f)),
        };
        void Norm(string prefix)
        {
            list.Add(new(prefix + ".weight", [h], t => Gaussian(o.Seed, t, h, 0.1f, mean: 1)));
            list.Add(new(prefix + ".bias", [h], t => Gaussian(o.Seed, t, h, 0.1f)));
        }
        void Linear(string prefix, int outF, int inF, bool bias = true)
        {
            list.Add(new(prefix + ".weight", [outF, inF], t => Gaussian(o.Seed, t, (long)outF * inF, 1f / MathF.Sqrt(inF))));
            if (bias) list.Add(new(prefix + ".bias", [outF], t => Gaussian(o.Seed, t, outF, 0.1f)));
        }
        for (int i = 0; i < c.Layers; i++)
        {
            string p = Layer(i);
            Norm(p + AttentionNorm);
            foreach (var name in new[] { Q, K, V, Out }) Linear(p + name, h, h);
            Norm(p + MlpNorm);
            Linear(p + Fc1, f, h);
            Linear(p + Fc2, h, f);
        }
        Norm(FinalNorm);
        if (c.HasProjection) Linear(Projection, c.ProjectionDim, h, bias: false);
        return list;
    }
}
