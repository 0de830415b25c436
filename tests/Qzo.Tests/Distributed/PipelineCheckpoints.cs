using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Quantization;
using Qzo.Quantization.Gptq;
using Qzo.Tests.Models;

namespace Qzo.Tests.Distributed;

/// <summary>Small checkpoints with enough decoder layers to split over three ranks, made with the project's synth and quantize.</summary>
static class PipelineCheckpoints
{
    /// <summary>A 4-layer Llama (GQA), RTN-quantized to 4-bit GPTQ with groups of 32.</summary>
    public static string Gptq(TempFolder folder)
    {
        string dense = folder["llama-4-layers"];
        ModelSynthesizer.Write(dense, new SynthOptions
            { Hidden = 64, Layers = 4, Heads = 4, KvHeads = 2, Intermediate = 96, Vocab = 320, Seed = 7 });
        string path = folder["llama-4-layers-gptq"];
        CheckpointQuantizer.QuantizeRtn(dense, path, GptqConfig.Create(4, 32, sym: true, GptqCheckpointFormat.Gptq));
        return path;
    }

    /// <summary>A dense 3-layer model of another family: OPT (tied lm_head, project_in/out) or Gemma 3 (sliding windows).</summary>
    public static string Dense(TempFolder folder, IArchitecture architecture) =>
        TinyModels.Dense(folder, architecture, $"{architecture.ModelType}-3-layers", o => o with { Layers = 3 });

    /// <summary>Sequences of different lengths (so some rows are padded), every token scored.</summary>
    public static TokenBatch Batch(int sequences, int seed) =>
        TokenBatch.Pad(Enumerable.Range(0, sequences).Select(i =>
        {
            var ids = TinyModels.RandomIds(5 + (i * 3 + seed) % 6, 320, seed * 100 + i);
            return (ids, Enumerable.Repeat(true, ids.Length).ToArray());
        }).ToList(), padId: 0);
}
