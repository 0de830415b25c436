using Qzo.Compute;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Numerics;
using Qzo.Quantization;

namespace Qzo.Models.Architectures.Llama;

/// <summary>
/// A quantized Llama (GPTQ by default, or any <see cref="SyntheticFormat"/>) made directly in device memory with random
/// codes and scales (for `qzo bench`): nothing of it ever exists in bf16 on the host, so a 70B shape needs only the
/// quantized model's device memory.
/// Tensor names are the checkpoint names, so trainable indices are assigned exactly as for a loaded model.
/// </summary>
public static class SyntheticLlama
{
    public static LlamaModel Create(IBackend backend, LlamaConfig c, int bits, int groupSize, ulong seed, TrainingScope scope,
                                    IProgress<double>? progress = null) =>
        Create(backend, c, new SyntheticFormat.Gptq(bits, groupSize), seed, scope, progress);

    public static LlamaModel Create(IBackend backend, LlamaConfig c, SyntheticFormat format, ulong seed, TrainingScope scope,
                                    IProgress<double>? progress = null)
    {
        int stream = 0;
        Parameter Dense(string name, long[] shape, float mean, float std)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var values = backend.Allocate(backend.ComputeType, count, MemoryCategory.OtherWeights);
            backend.FillRandom(values, RandomFill.Gaussian, seed, stream++, mean, std, count);
            return new Parameter(name, shape, DType.BF16, values);
        }
        ILinear Linear(string prefix, int inF, int outF)
        {
            var linear = format.Create(backend, prefix, inF, outF, seed, stream);
            stream += 2;
            return linear;
        }

        int h = c.HiddenSize, q = c.Heads * c.HeadDim, kv = c.KvHeads * c.HeadDim;
        var embedding = Dense("model.embed_tokens.weight", [c.VocabSize, h], 0f, 0.02f);
        var layers = new List<LlamaLayer>();
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            layers.Add(new LlamaLayer
            {
                InputNorm = Dense(p + "input_layernorm.weight", [h], 1f, 0f),
                PostAttentionNorm = Dense(p + "post_attention_layernorm.weight", [h], 1f, 0f),
                Q = Linear(p + "self_attn.q_proj", h, q), K = Linear(p + "self_attn.k_proj", h, kv),
                V = Linear(p + "self_attn.v_proj", h, kv), O = Linear(p + "self_attn.o_proj", q, h),
                Gate = Linear(p + "mlp.gate_proj", h, c.IntermediateSize), Up = Linear(p + "mlp.up_proj", h, c.IntermediateSize),
                Down = Linear(p + "mlp.down_proj", c.IntermediateSize, h),
            });
            progress?.Report((i + 1.0) / c.Layers);
        }
        var finalNorm = Dense("model.norm.weight", [h], 1f, 0f);
        var lmHead = new DenseLinear("lm_head", Dense("lm_head.weight", [c.VocabSize, h], 0f, 0.02f), null);
        var model = new LlamaModel(c, backend, ModelPart.Whole(c.Layers), embedding, layers, finalNorm, lmHead, []);
        if (scope != TrainingScope.None)
        {
            if (scope != TrainingScope.QuantizationScales) throw new ArgumentException("synthetic models train their scales only");
            var scales = model.AllParameters.Where(p => p.IsQuantizationScale).OrderBy(p => p.Name, IO.Utf8Ordinal.Comparer).ToList();
            for (int t = 0; t < scales.Count; t++) scales[t].TrainableIndex = t;
        }
        return model;
    }
}
