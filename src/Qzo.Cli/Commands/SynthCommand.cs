using System.CommandLine;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Numerics;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class SynthCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder to write the checkpoint to", Required = true };
        var architecture = new Option<string>("--architecture")
        {
            Description = $"model_type: {ArchitectureRegistry.SupportedModelTypes}; or {Sd3Synth.Architecture}, a Stable Diffusion 3.5 " +
                          "pipeline folder (see --preset)",
            DefaultValueFactory = _ => "llama",
        };
        var sd3 = new Sd3Synth();
        var dataset = new DatasetSynth();
        var hidden = new Option<int>("--hidden") { Description = "hidden_size", DefaultValueFactory = _ => 256 }.Positive();
        var layers = new Option<int>("--layers") { Description = "num_hidden_layers", DefaultValueFactory = _ => 4 }.Positive();
        var heads = new Option<int>("--heads") { Description = "num_attention_heads", DefaultValueFactory = _ => 8 }.Positive();
        var kvHeads = new Option<int?>("--kv-heads") { Description = "num_key_value_heads (GQA); default = --heads" }.Positive();
        var headDim = new Option<int?>("--head-dim") { Description = "head_dim; default = hidden / heads" }.Positive();
        var intermediate = new Option<int?>("--intermediate")
            { Description = "intermediate_size (opt: ffn_dim); default 8/3·hidden rounded up to 32 (opt: 4·hidden)" }.Positive();
        var slidingWindow = new Option<int?>("--sliding-window") { Description = "mistral: sliding_window (default none)" }.Positive();
        var wordEmbedDim = new Option<int?>("--word-embed-dim")
            { Description = "opt: word_embed_proj_dim, ≠ hidden adds project_in/project_out (default hidden)" }.Positive();
        var postLayerNorm = new Option<bool>("--post-layer-norm") { Description = "opt: do_layer_norm_before false (opt-350m's layout)" };
        var vocab = new Option<int>("--vocab")
            { Description = "vocab_size; the tokenizer.json written has exactly this many tokens (≥ 300)",
            DefaultValueFactory = _ => 512 }.Positive();
        var maxPositions = new Option<int>("--max-positions") { Description = "max_position_embeddings",
            DefaultValueFactory = _ => 2048 }.Positive();
        var ropeTheta = new Option<double>("--rope-theta") { Description = "RoPE base θ", DefaultValueFactory = _ => 10000 }.Positive();
        var tie = new Option<bool>("--tie-embeddings") { Description = "tie_word_embeddings (no lm_head.weight)" };
        var dtype = new Option<string>("--dtype") { Description = "bf16, fp16 or fp32", DefaultValueFactory = _ => "bf16" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 0UL };
        var initStd = new Option<float?>("--init-std") { Description = "Std of linear weights (default 1/sqrt(fan_in))" }.Positive();
        var logitScale = new Option<float>("--logit-scale")
            { Description = "Typical spread of the output logits (lm_head std · sqrt(hidden))", DefaultValueFactory = _ => 4f }.Positive();
        var lowRank = new Option<int?>("--low-rank")
            { Description =
            $"Give every linear weight and the embeddings a rank-R part holding {ModelSynthesizer.LowRankShare:P0} of their variance " +
            "(correlated activations, as trained models have)" }.Positive();
        var outliers = new Option<int>("--outliers")
            { Description = $"Hidden channels whose embeddings are {ModelSynthesizer.OutlierScale}x larger (outlier features)",
            DefaultValueFactory = _ => 0 }.NonNegative();
        var force = CommonOptions.Force();
        var command = new Command("synth",
            $"Write a randomly initialised checkpoint ({ArchitectureRegistry.Names}) in the Hugging Face layout, with a tokenizer; or, " +
            $"with --architecture {Sd3Synth.Architecture}, a whole Stable Diffusion 3.5 pipeline folder as diffusers saves it " +
            "(model_index.json, scheduler, transformer, VAE, the CLIP-L, CLIP-G and T5 text encoders and their tokenizers) for " +
            "qzo imagine; or, with --dataset styled-shapes, a synthetic image–caption dataset for qzo prepare. For tests, demos and " +
            "benchmarks; nothing is downloaded")
        {
            output, architecture, hidden, layers, heads, kvHeads, headDim, intermediate, slidingWindow, wordEmbedDim, postLayerNorm,
            vocab, maxPositions, ropeTheta, tie, dtype, seed, initStd, logitScale, force, lowRank, outliers,
        };
        foreach (var option in sd3.Options.Concat(dataset.Options)) command.Options.Add(option);
        Option[] languageModelOnly = [hidden, layers, heads, kvHeads, headDim, intermediate, slidingWindow, wordEmbedDim, postLayerNorm,
                                      vocab, maxPositions, ropeTheta, tie, initStd, logitScale, lowRank, outliers];
        command.SetAction(r => CommandRunner.Run(() =>
        {
            if (r.GetValue(dataset.Dataset) is not null)
            {
                dataset.Run(r, [.. languageModelOnly, architecture, dtype, .. sd3.Options], output, seed, force);
                return;
            }
            if (dataset.Given(r).FirstOrDefault() is { } datasetOnly) throw new QzoException($"{datasetOnly} applies to --dataset only");
            if (Sd3Synth.Is(r.GetValue(architecture)!))
            {
                sd3.Run(r, languageModelOnly, output, dtype, seed, force);
                return;
            }
            if (sd3.Given(r).FirstOrDefault() is { } sd3Only)
                throw new QzoException($"{sd3Only} applies to --architecture {Sd3Synth.Architecture} only");
            var options = new SynthOptions
            {
                Architecture = ParseArchitecture(r.GetValue(architecture)!),
                SlidingWindow = r.GetValue(slidingWindow), WordEmbedDim = r.GetValue(wordEmbedDim),
                    PostLayerNorm = r.GetValue(postLayerNorm),
                Hidden = r.GetValue(hidden), Layers = r.GetValue(layers), Heads = r.GetValue(heads), KvHeads = r.GetValue(kvHeads),
                HeadDim = r.GetValue(headDim), Intermediate = r.GetValue(intermediate), Vocab = r.GetValue(vocab),
                MaxPositions = r.GetValue(maxPositions), RopeTheta = r.GetValue(ropeTheta), TieEmbeddings = r.GetValue(tie),
                DType = ParseDType(r.GetValue(dtype)!), Seed = r.GetValue(seed), InitStd = r.GetValue(initStd),
                    LogitScale = r.GetValue(logitScale),
                LowRank = r.GetValue(lowRank), Outliers = r.GetValue(outliers),
            };
            foreach (var (name, value) in new[] { ("--hidden", options.Hidden), ("--layers", options.Layers), ("--heads", options.Heads),
                ("--vocab", options.Vocab) })
                if (value <= 0) throw new QzoException($"{name} must be positive, got {value}");
            using var outputs = CommonOptions.Outputs();
            string target = outputs.Folder(r.GetValue(output)!, "--out", r.GetValue(force));
            ModelSynthesizer.Write(target, options, r.GetValue(force));
            AnsiConsole.MarkupLine(
                $"wrote {Markup.Escape(r.GetValue(output)!)}: {options.Architecture.ClassName}, {options.Layers} layers, hidden " +
                $"{options.Hidden}, " +
                                   $"{options.Heads} heads ({options.ResolvedKvHeads} kv), vocab {options.Vocab}, {options.DType.Name()}");
        }));
        return command;
    }

    static IArchitecture ParseArchitecture(string text)
    {
        try { return ArchitectureRegistry.Parse(text, "--architecture"); }
        catch (QzoException)
        {
            throw new QzoException($"--architecture '{text}' is not supported " +
                                   $"(supported: {ArchitectureRegistry.SupportedModelTypes}, {Sd3Synth.Architecture})");
        }
    }

    public static DType ParseDType(string text) => text.ToLowerInvariant() switch
    {
        "bf16" or "bfloat16" => DType.BF16,
        "fp16" or "f16" or "float16" => DType.F16,
        "fp32" or "f32" or "float32" => DType.F32,
        _ => throw new QzoException($"--dtype must be bf16, fp16 or fp32, got '{text}'"),
    };
}
