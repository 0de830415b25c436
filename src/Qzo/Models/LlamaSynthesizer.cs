using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Text;

namespace Qzo.Models;

/// <summary>
/// Writes a randomly initialised LlamaForCausalLM checkpoint in the layout transformers 5 saves:
/// config.json, generation_config.json, model.safetensors, tokenizer.json, tokenizer_config.json.
/// Weights are Gaussian draws from the project's own Philox stream, so a seed gives the same model everywhere.
/// </summary>
public static class LlamaSynthesizer
{
    public static void Write(string output, SynthOptions o, bool overwrite = false)
    {
        if (o.Hidden % o.Heads != 0 && o.HeadDim is null)
            throw new QzoException($"--hidden ({o.Hidden}) must be a multiple of --heads ({o.Heads}), or give --head-dim");
        if (o.Heads % o.ResolvedKvHeads != 0)
            throw new QzoException($"--heads ({o.Heads}) must be a multiple of --kv-heads ({o.ResolvedKvHeads})");
        if (!o.DType.IsFloat() || o.DType == DType.F64) throw new QzoException($"--dtype must be bf16, fp16 or fp32");

        string tokenizerJson;
        try { tokenizerJson = TokenizerSynthesizer.BuildTokenizerJson(o.Vocab, TokenizerSynthesizer.BuiltInCorpus); }
        catch (ArgumentException e) { throw new QzoException($"--vocab {o.Vocab}: {e.Message}"); }

        var tensors = Tensors(o).Select((t, index) => new TensorToWrite(t.Name, o.DType, t.Shape,
            DTypes.FromSingle(o.DType, t.Init(o, index)))).ToList();

        OutputFolder.Write(output, overwrite, folder =>
        {
            AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), Config(o).ToJsonString(Json.Indented) + "\n");
            AtomicFile.WriteAllText(Path.Combine(folder, "generation_config.json"), new JsonObject
            {
                ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["pad_token_id"] = 0, ["transformers_version"] = "5.17.0",
            }.ToJsonString(Json.Indented) + "\n");
            SafetensorsWriter.Write(Path.Combine(folder, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer.json"), tokenizerJson);
            AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), TokenizerSynthesizer.BuildTokenizerConfigJson());
        });
    }

    public static JsonObject Config(SynthOptions o) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["attention_bias"] = false,
        ["attention_dropout"] = 0.0,
        ["bos_token_id"] = 1,
        ["dtype"] = o.DType switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" },
        ["eos_token_id"] = 2,
        ["head_dim"] = o.ResolvedHeadDim,
        ["hidden_act"] = "silu",
        ["hidden_size"] = o.Hidden,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = o.ResolvedIntermediate,
        ["max_position_embeddings"] = o.MaxPositions,
        ["mlp_bias"] = false,
        ["model_type"] = "llama",
        ["num_attention_heads"] = o.Heads,
        ["num_hidden_layers"] = o.Layers,
        ["num_key_value_heads"] = o.ResolvedKvHeads,
        ["pad_token_id"] = 0,
        ["pretraining_tp"] = 1,
        ["rms_norm_eps"] = o.RmsNormEps,
        ["rope_parameters"] = new JsonObject { ["rope_theta"] = o.RopeTheta, ["rope_type"] = "default" },
        ["tie_word_embeddings"] = o.TieEmbeddings,
        ["transformers_version"] = "5.17.0",
        ["use_cache"] = true,
        ["vocab_size"] = o.Vocab,
    };

    sealed record Planned(string Name, long[] Shape, Func<SynthOptions, int, float[]> Init);

    static IEnumerable<Planned> Tensors(SynthOptions o)
    {
        int h = o.Hidden, q = o.Heads * o.ResolvedHeadDim, kv = o.ResolvedKvHeads * o.ResolvedHeadDim, m = o.ResolvedIntermediate;
        yield return new("model.embed_tokens.weight", [o.Vocab, h], (o, t) => Gaussian(o, t, (long)o.Vocab * h, 1f));
        for (int i = 0; i < o.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            yield return new(p + "input_layernorm.weight", [h], (o, t) => Ones(h));
            yield return new(p + "post_attention_layernorm.weight", [h], (o, t) => Ones(h));
            foreach (var (name, outF, inF) in new[] { ("self_attn.q_proj", q, h), ("self_attn.k_proj", kv, h), ("self_attn.v_proj", kv, h),
                                                      ("self_attn.o_proj", h, q), ("mlp.gate_proj", m, h), ("mlp.up_proj", m, h), ("mlp.down_proj", h, m) })
                yield return new(p + name + ".weight", [outF, inF], (o, t) => Gaussian(o, t, (long)outF * inF, o.InitStd ?? 1f / MathF.Sqrt(inF)));
        }
        yield return new("model.norm.weight", [h], (o, t) => Ones(h));
        if (!o.TieEmbeddings)
            yield return new("lm_head.weight", [o.Vocab, h], (o, t) => Gaussian(o, t, (long)o.Vocab * h, o.LogitScale / MathF.Sqrt(h)));
    }

    static float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();

    static float[] Gaussian(SynthOptions o, int tensor, long count, float std)
    {
        var values = new float[count];
        Parallel.For(0, (int)((count + 65535) / 65536), chunk =>
        {
            long start = chunk * 65536L;
            var span = values.AsSpan((int)start, (int)Math.Min(65536, count - start));
            GaussianDirection.Fill(o.Seed ^ 0x5147_4E54_0000_0000UL, tensor, start, span);
            for (int i = 0; i < span.Length; i++) span[i] *= std;
        });
        return values;
    }
}
