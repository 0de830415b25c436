using System.Text.Json.Nodes;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.Encoders;
using Qzo.Encoders.Clip;
using Qzo.Encoders.T5;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Text;

namespace Qzo.Diffusion.Pipelines;

/// <summary>What `qzo synth --architecture sd3` writes: a preset's shapes, the stored dtype, the seed, whether T5 is included.</summary>
public sealed record Sd3SynthOptions
{
    public Sd3PipelinePreset Preset { get; init; } = Sd3PipelinePreset.Tiny;
    /// <summary>Every component's weights: BF16 (as the Hub ships SD3.5), F16 or F32.</summary>
    public DType DType { get; init; } = DType.BF16;
    public ulong Seed { get; init; }
    /// <summary>false writes no text_encoder_3/ and tokenizer_3/ (model_index.json names them [null, null]).</summary>
    public bool WithT5 { get; init; } = true;
}

/// <summary>What was written: each component's parameters and the bytes of all weights.</summary>
public sealed record Sd3SynthSummary(IReadOnlyDictionary<string, long> Parameters, long WeightBytes, int ClipVocab, int T5Vocab);

/// <summary>
/// Writes a whole StableDiffusion3Pipeline folder with random weights, as diffusers' save_pretrained lays out SD3.5
/// (model_index.json, scheduler/, transformer/, vae/, text_encoder{,_2,_3}/, tokenizer{,_2,_3}/), so `qzo imagine`
/// and the loaders run on a fresh clone without downloads. The tokenizers are learned from the built-in corpus
/// (<see cref="ClipTokenizerSynthesizer"/>, <see cref="T5TokenizerSynthesizer"/>); each component's weights come from
/// its own synthesis (a seed of its own derived from <see cref="Sd3SynthOptions.Seed"/>) and are drawn tensor by tensor
/// as they are written, so memory holds one tensor at a time. The folder appears whole or not at all
/// (<see cref="OutputFolder"/>); disk and memory are checked before anything is written.
/// </summary>
public static class Sd3PipelineSynthesis
{
    /// <summary>diffusers' default max_shard_size ("10GB"): SD3.5 Large's transformer comes in two shards.</summary>
    public const long TransformerShardBytes = 10_000_000_000;
    /// <summary>The Hub's text_encoder_3/ is T5-XXL in two shards of at most 5 GB (transformers' old default).</summary>
    public const long T5ShardBytes = 5_000_000_000;
    const int ClipMerges = 4000, T5Pieces = 2000;
    const string DiffusersVersion = "0.39.0";

    public static Sd3SynthSummary Write(string output, Sd3SynthOptions o, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (o.DType is not (DType.BF16 or DType.F16 or DType.F32)) throw new QzoException("--dtype must be bf16, fp16 or fp32");
        var preset = o.Preset;
        preset.Validate();
        var clip = ClipTokenizerSynthesizer.Train(ClipTokenizerSynthesizer.BuiltInCorpus, ClipMerges);
        var t5Vocab = T5TokenizerSynthesizer.Train(ClipTokenizerSynthesizer.BuiltInCorpus, T5Pieces);
        int clipVocab = preset.ClipVocab ?? clip.Count, t5VocabSize = preset.T5Vocab ?? t5Vocab.Count;
        if (clip.Count > clipVocab || t5Vocab.Count > t5VocabSize)
            throw new InvalidOperationException("the synthesized tokenizers are larger than the preset's vocabularies");
        // Pooling reads the first <|endoftext|>: config.json names the synthesized tokenizer's ids (the Hub's say 2).
        var clipL = preset.ClipL with
        {
            VocabSize = clipVocab, BosTokenId = clip.StartOfTextId, EosTokenId = clip.EndOfTextId, PadTokenId = clip.EndOfTextId,
        };
        var clipG = preset.ClipG with
        {
            VocabSize = clipVocab, BosTokenId = clip.StartOfTextId, EosTokenId = clip.EndOfTextId,
            PadTokenId = clip.IdOf(ClipTokenizerSynthesizer.BigGPadToken),
        };
        var t5 = preset.T5 with { VocabSize = t5VocabSize };
        var seeds = Enumerable.Range(1, 5).Select(k => SplitMix64.Mix(o.Seed + (ulong)k)).ToArray();
        var clipLOptions = new EncoderSynthOptions { Seed = seeds[0], DType = o.DType };
        var clipGOptions = clipLOptions with { Seed = seeds[1] };
        var t5Options = clipLOptions with { Seed = seeds[2], MaxShardBytes = T5ShardBytes };

        var parameters = new Dictionary<string, long>
        {
            ["transformer"] = Count(Sd3TransformerSynthesis.Tensors(preset.Transformer).Select(t => t.Shape)),
            ["vae"] = Count(VaeLayout.Tensors(preset.Vae).Select(t => t.Shape)),
            ["text_encoder"] = Count(ClipTextSynthesis.Tensors(clipL, clipLOptions).Select(t => t.Shape)),
            ["text_encoder_2"] = Count(ClipTextSynthesis.Tensors(clipG, clipGOptions).Select(t => t.Shape)),
        };
        if (o.WithT5) parameters["text_encoder_3"] = Count(T5EncoderSynthesis.Tensors(t5, t5Options).Select(t => t.Shape));
        long weightBytes = parameters.Values.Sum() * o.DType.SizeInBytes();
        CheckResources(output, o, preset, t5, weightBytes);

        OutputFolder.Write(output, overwrite, staging =>
        {
            WriteJson(Path.Combine(staging, Sd3PipelineFolder.IndexFileName), ModelIndex(o.WithT5));
            Directory.CreateDirectory(Path.Combine(staging, "scheduler"));
            WriteJson(Path.Combine(staging, "scheduler", "scheduler_config.json"), SchedulerConfig());
            ClipTokenizerSynthesizer.Write(Path.Combine(staging, "tokenizer"), clip, ClipTokenizerSynthesizer.EndOfText);
            ClipTokenizerSynthesizer.Write(Path.Combine(staging, "tokenizer_2"), clip, ClipTokenizerSynthesizer.BigGPadToken);
            ClipTextSynthesis.Write(Path.Combine(staging, "text_encoder"), clipL, clipLOptions);
            ClipTextSynthesis.Write(Path.Combine(staging, "text_encoder_2"), clipG, clipGOptions);
            if (o.WithT5)
            {
                T5TokenizerSynthesizer.Write(Path.Combine(staging, "tokenizer_3"), t5Vocab);
                T5EncoderSynthesis.Write(Path.Combine(staging, "text_encoder_3"), t5, t5Options);
            }
            Sd3TransformerSynthesis.Write(Path.Combine(staging, "transformer"), preset.Transformer, o.DType, seeds[3],
                                          maxShardBytes: TransformerShardBytes);
            VaeSynthesis.Write(Path.Combine(staging, "vae"), preset.Vae, seeds[4], o.DType);
        });
        return new Sd3SynthSummary(parameters, weightBytes, clipVocab, t5VocabSize);
    }

    static long Count(IEnumerable<long[]> shapes) => shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b));

    /// <summary>
    /// The disk must hold every weight (plus the tokenizers' few hundred KB); memory must hold the largest tensor twice
    /// (drawn in fp32, then converted), and one .NET array must hold it.
    /// </summary>
    static void CheckResources(string output, Sd3SynthOptions o, Sd3PipelinePreset preset, T5EncoderConfig t5, long weightBytes)
    {
        ResourceBudget.RequireDisk("synth", $"the SD3 pipeline '{preset.Name}'", output, weightBytes + (4 << 20));
        var t = preset.Transformer;
        double largest = new[]
        {
            (double)t.PosEmbedMaxSize * t.PosEmbedMaxSize * t.InnerDim, 4.0 * t.InnerDim * t.InnerDim,
            o.WithT5 ? (double)t5.VocabSize * t5.DModel : 0, (double)t5.DFf * t5.DModel,
            (double)preset.ClipG.VocabSize * preset.ClipG.HiddenSize, (double)preset.ClipG.IntermediateSize * preset.ClipG.HiddenSize,
        }.Max();
        ResourceBudget.RequireHostMemory("synth", $"the SD3 pipeline '{preset.Name}' (its largest tensor)",
                                         largest * (4 + o.DType.SizeInBytes()));
        if (largest * 4 > Array.MaxLength)
            throw new QzoException($"synth: a tensor of {largest} values is over what one array holds");
    }

    /// <summary>model_index.json as diffusers' save_pretrained writes StableDiffusion3Pipeline (keys sorted).</summary>
    static JsonObject ModelIndex(bool withT5)
    {
        static JsonArray Entry(string? library, string? type) => new(library, type);
        return new JsonObject
        {
            ["_class_name"] = "StableDiffusion3Pipeline",
            ["_diffusers_version"] = DiffusersVersion,
            ["feature_extractor"] = Entry(null, null),
            ["image_encoder"] = Entry(null, null),
            ["scheduler"] = Entry("diffusers", "FlowMatchEulerDiscreteScheduler"),
            ["text_encoder"] = Entry("transformers", ClipTextConfig.WithProjectionClass),
            ["text_encoder_2"] = Entry("transformers", ClipTextConfig.WithProjectionClass),
            ["text_encoder_3"] = withT5 ? Entry("transformers", "T5EncoderModel") : Entry(null, null),
            ["tokenizer"] = Entry("transformers", "CLIPTokenizer"),
            ["tokenizer_2"] = Entry("transformers", "CLIPTokenizer"),
            ["tokenizer_3"] = withT5 ? Entry("transformers", "T5TokenizerFast") : Entry(null, null),
            ["transformer"] = Entry("diffusers", Sd3TransformerConfig.ClassName),
            ["vae"] = Entry("diffusers", VaeConfig.ClassName),
        };
    }

    /// <summary>
    /// scheduler_config.json of SD3.5 (FlowMatchEulerDiscreteScheduler, shift 3.0, 1000 training steps) with every
    /// argument diffusers 0.39 saves; floats as Python prints them (3.0, not 3).
    /// </summary>
    static JsonObject SchedulerConfig() => new()
    {
        ["_class_name"] = "FlowMatchEulerDiscreteScheduler",
        ["_diffusers_version"] = DiffusersVersion,
        ["base_image_seq_len"] = 256,
        ["base_shift"] = JsonNode.Parse("0.5"),
        ["invert_sigmas"] = false,
        ["max_image_seq_len"] = 4096,
        ["max_shift"] = JsonNode.Parse("1.15"),
        ["num_train_timesteps"] = 1000,
        ["shift"] = JsonNode.Parse("3.0"),
        ["shift_terminal"] = null,
        ["stochastic_sampling"] = false,
        ["time_shift_type"] = "exponential",
        ["use_beta_sigmas"] = false,
        ["use_dynamic_shifting"] = false,
        ["use_exponential_sigmas"] = false,
        ["use_karras_sigmas"] = false,
    };

    /// <summary>json.dumps(indent=2, sort_keys=True) + "\n", as diffusers' to_json_file writes (the keys above are sorted).</summary>
    static void WriteJson(string path, JsonObject json) => AtomicFile.WriteAllText(path, json.ToJsonString(Json.Indented) + "\n");
}
