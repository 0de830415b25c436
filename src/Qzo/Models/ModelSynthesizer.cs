using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Models.Architectures;
using Qzo.Numerics;
using Qzo.Text;

namespace Qzo.Models;

/// <summary>
/// Writes a randomly initialised checkpoint of any supported architecture in the layout transformers 5 saves:
/// config.json, generation_config.json, model.safetensors, tokenizer.json, tokenizer_config.json.
/// Weights are Gaussian draws from the project's own Philox stream, so a seed gives the same model everywhere.
/// What a family's config.json and tensors are, its folder under Models/Architectures says (<see cref="IArchitecture.Synthesis"/>).
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

        var tensors = o.Architecture.Synthesis.Tensors(o).Select((t, index) => new TensorToWrite(t.Name, o.DType, t.Shape,
            DTypes.FromSingle(o.DType, t.Init(index)))).ToList();

        OutputFolder.Write(output, overwrite, folder =>
        {
            AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), Config(o).ToJsonString(Json.Indented) + "\n");
            AtomicFile.WriteAllText(Path.Combine(folder, "generation_config.json"), new JsonObject
            {
                ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["pad_token_id"] = 0, ["transformers_version"] = "5.17.0",
            }.ToJsonString(Json.Indented) + "\n");
            SafetensorsWriter.Write(Path.Combine(folder, "model.safetensors"), tensors,
                new Dictionary<string, string> { ["format"] = "pt" });
            AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer.json"), tokenizerJson);
            AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), TokenizerSynthesizer.BuildTokenizerConfigJson());
        });
    }

    static void Validate(SynthOptions o)
    {
        foreach (var (name, value) in new[] { ("--hidden", o.Hidden), ("--layers", o.Layers), ("--heads", o.Heads), ("--vocab", o.Vocab),
                                              ("--kv-heads", o.KvHeads ?? 1), ("--head-dim", o.HeadDim ?? 1),
                                              ("--intermediate", o.Intermediate ?? 1),
                                              ("--max-positions", o.MaxPositions) })
            if (value <= 0) throw new QzoException($"{name} must be positive, got {value}");
        o.Architecture.Synthesis.Validate(o);
        if (o.Vocab < TokenizerSynthesizer.MinimumVocabSize)
            throw new QzoException(
                $"--vocab must be at least {TokenizerSynthesizer.MinimumVocabSize} (3 special tokens, 256 byte tokens and \"▁\"), got " +
                $"{o.Vocab}");
        if (o.Heads % o.ResolvedKvHeads != 0)
            throw new QzoException($"--heads ({o.Heads}) must be a multiple of --kv-heads ({o.ResolvedKvHeads})");
        if (!o.DType.IsFloat() || o.DType == DType.F64) throw new QzoException($"--dtype must be bf16, fp16 or fp32");
        if (o.WordEmbedDim is <= 0) throw new QzoException($"--word-embed-dim must be positive, got {o.WordEmbedDim}");
        if (o.LowRank is int rank && (rank <= 0 || rank > Math.Min(o.Hidden, o.ResolvedWordEmbedDim)))
            throw new QzoException(
                $"--low-rank must be between 1 and the hidden size ({Math.Min(o.Hidden, o.ResolvedWordEmbedDim)}), got {rank}");
        if (o.Outliers < 0 || o.Outliers > o.ResolvedWordEmbedDim / 2)
            throw new QzoException(
                $"--outliers must be between 0 and half the embedding width ({o.ResolvedWordEmbedDim / 2}), got {o.Outliers}");
    }

    /// <summary>The config.json `qzo synth` writes for <paramref name="o"/>.</summary>
    public static JsonObject Config(SynthOptions o) => o.Architecture.Synthesis.Config(o);
}
