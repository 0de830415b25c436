using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Text;

namespace Qzo.Models;

/// <summary>
/// Writes a randomly initialised checkpoint of any supported architecture in the layout transformers 5 saves:
/// config.json, generation_config.json, model.safetensors, tokenizer.json, tokenizer_config.json.
/// Weights are Gaussian draws from the project's own Philox stream, so a seed gives the same model everywhere.
/// Llama-layout norms start at 1; the biases and LayerNorms the other architectures add are random too, so a
/// test that ignored one would notice.
/// </summary>
public static class ModelSynthesizer
{
    /// <summary>Share of a weight's variance in its low-rank part when <see cref="SynthOptions.LowRank"/> is set.</summary>
    public const float LowRankShare = 0.8f;
    /// <summary>How much larger the embeddings of the <see cref="SynthOptions.Outliers"/> channels are.</summary>
    public const float OutlierScale = 8f;

    public static void Write(string output, SynthOptions o, bool overwrite = false)
    {
        Validate(o);
        SynthFootprint.Check(output, o);
        string tokenizerJson;
        try { tokenizerJson = TokenizerSynthesizer.BuildTokenizerJson(o.Vocab, TokenizerSynthesizer.BuiltInCorpus); }
        catch (ArgumentException e) { throw new QzoException($"--vocab {o.Vocab}: {e.Message}"); }

        var tensors = Tensors(o).Select((t, index) => new TensorToWrite(t.Name, o.DType, t.Shape,
            DTypes.FromSingle(o.DType, t.Init(index)))).ToList();

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

    static void Validate(SynthOptions o)
    {
        bool opt = o.Architecture == ArchitectureKind.Opt;
        foreach (var (name, value) in new[] { ("--hidden", o.Hidden), ("--layers", o.Layers), ("--heads", o.Heads), ("--vocab", o.Vocab),
                                              ("--kv-heads", o.KvHeads ?? 1), ("--head-dim", o.HeadDim ?? 1), ("--intermediate", o.Intermediate ?? 1),
                                              ("--max-positions", o.MaxPositions) })
            if (value <= 0) throw new QzoException($"{name} must be positive, got {value}");
        if (o.Hidden % o.Heads != 0 && (opt || o.HeadDim is null))
            throw new QzoException($"--hidden ({o.Hidden}) must be a multiple of --heads ({o.Heads}){(opt ? "" : ", or give --head-dim")}");
        if (o.Vocab < TokenizerSynthesizer.MinimumVocabSize)
            throw new QzoException($"--vocab must be at least {TokenizerSynthesizer.MinimumVocabSize} (3 special tokens, 256 byte tokens and \"▁\"), got {o.Vocab}");
        if (!opt && o.ResolvedHeadDim % 2 != 0)
            throw new QzoException($"--head-dim must be even for rotary position embeddings, got {o.ResolvedHeadDim}{(o.HeadDim is null ? " (--hidden / --heads)" : "")}");
        if (o.Heads % o.ResolvedKvHeads != 0)
            throw new QzoException($"--heads ({o.Heads}) must be a multiple of --kv-heads ({o.ResolvedKvHeads})");
        if (!o.DType.IsFloat() || o.DType == DType.F64) throw new QzoException($"--dtype must be bf16, fp16 or fp32");
        if (o.SlidingWindow is int w && (w <= 0 || o.Architecture != ArchitectureKind.Mistral))
            throw new QzoException($"--sliding-window must be positive and applies to mistral only");
        if (opt && (o.KvHeads is not null || o.HeadDim is not null))
            throw new QzoException("--kv-heads and --head-dim do not apply to opt (every head has its own keys; head_dim = hidden / heads)");
        if ((o.WordEmbedDim is not null || o.PostLayerNorm) && !opt)
            throw new QzoException("--word-embed-dim and --post-layer-norm apply to opt only");
        if (o.WordEmbedDim is <= 0) throw new QzoException($"--word-embed-dim must be positive, got {o.WordEmbedDim}");
        if (o.LowRank is int rank && (rank <= 0 || rank > Math.Min(o.Hidden, o.ResolvedWordEmbedDim)))
            throw new QzoException($"--low-rank must be between 1 and the hidden size ({Math.Min(o.Hidden, o.ResolvedWordEmbedDim)}), got {rank}");
        if (o.Outliers < 0 || o.Outliers > o.ResolvedWordEmbedDim / 2)
            throw new QzoException($"--outliers must be between 0 and half the embedding width ({o.ResolvedWordEmbedDim / 2}), got {o.Outliers}");
    }

    public static JsonObject Config(SynthOptions o) => o.Architecture == ArchitectureKind.Opt ? OptConfigJson(o) : LlamaConfigJson(o);

    static string DTypeName(SynthOptions o) => o.DType switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" };

    static JsonObject LlamaConfigJson(SynthOptions o)
    {
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(o.Architecture.ClassName()),
            ["attention_dropout"] = 0.0,
            ["bos_token_id"] = 1,
            ["dtype"] = DTypeName(o),
            ["eos_token_id"] = 2,
            ["head_dim"] = o.ResolvedHeadDim,
            ["hidden_act"] = "silu",
            ["hidden_size"] = o.Hidden,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = o.ResolvedIntermediate,
            ["max_position_embeddings"] = o.MaxPositions,
            ["model_type"] = o.Architecture.ModelType(),
            ["num_attention_heads"] = o.Heads,
            ["num_hidden_layers"] = o.Layers,
            ["num_key_value_heads"] = o.ResolvedKvHeads,
            ["pad_token_id"] = 0,
            ["rms_norm_eps"] = o.RmsNormEps,
            ["rope_parameters"] = new JsonObject { ["rope_theta"] = o.RopeTheta, ["rope_type"] = "default" },
            ["tie_word_embeddings"] = o.TieEmbeddings,
            ["transformers_version"] = "5.17.0",
            ["use_cache"] = true,
            ["vocab_size"] = o.Vocab,
        };
        switch (o.Architecture)
        {
            case ArchitectureKind.Llama:
                config["attention_bias"] = false; config["mlp_bias"] = false; config["pretraining_tp"] = 1;
                break;
            case ArchitectureKind.Mistral:
                config["sliding_window"] = o.SlidingWindow;
                break;
            case ArchitectureKind.Qwen2:
                config["use_sliding_window"] = false; config["sliding_window"] = null; config["max_window_layers"] = o.Layers;
                break;
        }
        return Sorted(config);
    }

    static JsonObject OptConfigJson(SynthOptions o) => Sorted(new JsonObject
    {
        ["_remove_final_layer_norm"] = false,
        ["activation_function"] = "relu",
        ["architectures"] = new JsonArray("OPTForCausalLM"),
        ["attention_dropout"] = 0.0,
        ["bos_token_id"] = 1,
        ["do_layer_norm_before"] = !o.PostLayerNorm,
        ["dropout"] = 0.1,
        ["dtype"] = DTypeName(o),
        ["enable_bias"] = true,
        ["eos_token_id"] = 2,
        ["ffn_dim"] = o.ResolvedIntermediate,
        ["hidden_size"] = o.Hidden,
        ["layer_norm_elementwise_affine"] = true,
        ["max_position_embeddings"] = o.MaxPositions,
        ["model_type"] = "opt",
        ["num_attention_heads"] = o.Heads,
        ["num_hidden_layers"] = o.Layers,
        ["pad_token_id"] = 0,
        ["tie_word_embeddings"] = o.TieEmbeddings,
        ["transformers_version"] = "5.17.0",
        ["use_cache"] = true,
        ["vocab_size"] = o.Vocab,
        ["word_embed_proj_dim"] = o.ResolvedWordEmbedDim,
    });

    static JsonObject Sorted(JsonObject o) => new(o.OrderBy(kv => kv.Key, StringComparer.Ordinal)
        .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));

    sealed record Planned(string Name, long[] Shape, Func<int, float[]> Init);

    static IEnumerable<Planned> Tensors(SynthOptions o) => o.Architecture == ArchitectureKind.Opt ? OptTensors(o) : LlamaTensors(o);

    static IEnumerable<Planned> LlamaTensors(SynthOptions o)
    {
        int h = o.Hidden, q = o.Heads * o.ResolvedHeadDim, kv = o.ResolvedKvHeads * o.ResolvedHeadDim, m = o.ResolvedIntermediate;
        bool qkvBias = o.Architecture == ArchitectureKind.Qwen2;
        yield return new("model.embed_tokens.weight", [o.Vocab, h], t => Embedding(o, t, o.Vocab, h));
        for (int i = 0; i < o.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            yield return new(p + "input_layernorm.weight", [h], t => Ones(h));
            yield return new(p + "post_attention_layernorm.weight", [h], t => Ones(h));
            foreach (var (name, outF, inF) in new[] { ("self_attn.q_proj", q, h), ("self_attn.k_proj", kv, h), ("self_attn.v_proj", kv, h),
                                                      ("self_attn.o_proj", h, q), ("mlp.gate_proj", m, h), ("mlp.up_proj", m, h), ("mlp.down_proj", h, m) })
            {
                yield return Weight(o, p + name, outF, inF);
                if (qkvBias && name is "self_attn.q_proj" or "self_attn.k_proj" or "self_attn.v_proj")
                    yield return new(p + name + ".bias", [outF], t => Gaussian(o, t, outF, 0.5f));
            }
        }
        yield return new("model.norm.weight", [h], t => Ones(h));
        if (!o.TieEmbeddings)
            yield return new("lm_head.weight", [o.Vocab, h], t => Gaussian(o, t, (long)o.Vocab * h, o.LogitScale / MathF.Sqrt(h)));
    }

    static IEnumerable<Planned> OptTensors(SynthOptions o)
    {
        int h = o.Hidden, f = o.ResolvedIntermediate, words = o.ResolvedWordEmbedDim;
        const string d = "model.decoder.";
        IEnumerable<Planned> Norm(string prefix) =>
        [
            new(prefix + ".weight", [h], t => Gaussian(o, t, h, 0.1f).Select(v => 1 + v).ToArray()),
            new(prefix + ".bias", [h], t => Gaussian(o, t, h, 0.1f)),
        ];
        IEnumerable<Planned> Linear(string prefix, int outF, int inF) => [Weight(o, prefix, outF, inF), new(prefix + ".bias", [outF], t => Gaussian(o, t, outF, 0.1f))];

        yield return new(d + "embed_tokens.weight", [o.Vocab, words], t => Embedding(o, t, o.Vocab, words));
        yield return new(d + "embed_positions.weight", [o.MaxPositions + OptConfig.PositionOffset, h],
                         t => Gaussian(o, t, (long)(o.MaxPositions + OptConfig.PositionOffset) * h, 0.5f));
        if (words != h) yield return Weight(o, d + "project_in", h, words);
        for (int i = 0; i < o.Layers; i++)
        {
            string p = $"{d}layers.{i}.";
            foreach (var t in Norm(p + "self_attn_layer_norm")) yield return t;
            foreach (var name in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
                foreach (var t in Linear(p + "self_attn." + name, h, h)) yield return t;
            foreach (var t in Norm(p + "final_layer_norm")) yield return t;
            foreach (var t in Linear(p + "fc1", f, h)) yield return t;
            foreach (var t in Linear(p + "fc2", h, f)) yield return t;
        }
        if (!o.PostLayerNorm) foreach (var t in Norm(d + "final_layer_norm")) yield return t;
        if (words != h) yield return Weight(o, d + "project_out", words, h);
        if (!o.TieEmbeddings)
            yield return new("lm_head.weight", [o.Vocab, words], t => Gaussian(o, t, (long)o.Vocab * words, o.LogitScale / MathF.Sqrt(words)));
    }

    static Planned Weight(SynthOptions o, string prefix, int outF, int inF) =>
        new(prefix + ".weight", [outF, inF], t => Structured(o, t, outF, inF, o.InitStd ?? 1f / MathF.Sqrt(inF)));

    static float[] Embedding(SynthOptions o, int t, int vocab, int width)
    {
        var values = Structured(o, t, vocab, width, 1f);
        if (o.Outliers > 0)
            for (int k = 0; k < o.Outliers; k++)
            {
                int channel = k * (width / o.Outliers) + 1;
                for (long r = 0; r < vocab; r++) values[r * width + channel] *= OutlierScale;
            }
        return values;
    }

    /// <summary>
    /// [rows, columns] Gaussian with standard deviation <paramref name="std"/>; with a low rank r, the sum of an
    /// independent part and a rank-r product A·B (A, B Gaussian, from streams of their own) holding <see cref="LowRankShare"/>
    /// of the variance, so the overall scale is unchanged.
    /// </summary>
    static float[] Structured(SynthOptions o, int t, int rows, int columns, float std)
    {
        if (o.LowRank is not int rank) return Gaussian(o, t, (long)rows * columns, std);
        var values = Gaussian(o, t, (long)rows * columns, std * MathF.Sqrt(1 - LowRankShare));
        var a = Gaussian(o, t | 1 << 20, (long)rows * rank, 1f);
        var b = Gaussian(o, t | 2 << 20, (long)rank * columns, std * MathF.Sqrt(LowRankShare / rank));
        Compute.Cpu.Sgemm.MatMul(a, b, values, rows, columns, rank, accumulate: true);
        return values;
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
