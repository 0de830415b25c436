using Qzo.Compute;
using Qzo.Numerics;
using Qzo.Quantization;

namespace Qzo.Models;

/// <summary>
/// A GPTQ-layout Llama made directly in device memory with random codes and scales (for `qzo bench`):
/// nothing of it ever exists in bf16 on the host, so a 70B shape needs only the 4-bit model's device memory.
/// Tensor names are the checkpoint names, so trainable indices are assigned exactly as for a loaded model.
/// </summary>
public static class SyntheticLlama
{
    public static LlamaModel Create(IBackend backend, LlamaConfig c, int bits, int groupSize, ulong seed, TrainingScope scope,
                                    IProgress<double>? progress = null)
    {
        var gptq = GptqConfig.Create(bits, groupSize, sym: true, GptqCheckpointFormat.Gptq);
        int stream = 0;
        Parameter Dense(string name, long[] shape, float mean, float std)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var values = backend.Allocate(backend.ComputeType, count, MemoryCategory.OtherWeights);
            backend.FillRandom(values, RandomFill.Gaussian, seed, stream++, mean, std, count);
            return new Parameter(name, shape, DType.BF16, values);
        }
        DeviceTensor Ints(int[] values)
        {
            var t = backend.Allocate(DType.I32, values.Length, MemoryCategory.QuantizedWeights);
            backend.Upload<int>(t, values);
            return t;
        }
        ILinear Linear(string prefix, int inF, int outF)
        {
            int g = gptq.EffectiveGroupSize(inF), groups = (inF + g - 1) / g;
            long words = (long)inF * bits / 32 * outF;
            var qweight = backend.Allocate(DType.I32, words, MemoryCategory.QuantizedWeights);
            backend.FillRandom(qweight, RandomFill.Bits, seed, stream++, 0, 0, words);
            var zeros = GptqPacking.PackQZeros(Enumerable.Repeat(1 << (bits - 1), groups * outF).ToArray(), groups, outF, bits, gptq.Format);
            var scales = backend.Allocate(DType.F32, (long)groups * outF, MemoryCategory.TrainableScales);
            float typical = 0.02f * 2.5f / (1 << (bits - 1)); // codes span ±2.5 std of a 0.02-std weight
            backend.FillRandom(scales, RandomFill.Uniform, seed, stream++, 0.5f * typical, 1.5f * typical, (long)groups * outF);
            var scaleParameter = new Parameter(prefix + ".scales", [groups, outF], DType.F16, scales) { IsQuantizationScale = true };
            return new GptqLinear(prefix, qweight, Ints(zeros), Ints(GptqPacking.DefaultGIdx(inF, g)), scaleParameter, null,
                                  new GptqKernelShape(inF, outF, groups, bits, ZerosOffsetByOne: true));
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
        var model = new LlamaModel(c, backend, embedding, layers, finalNorm, lmHead, []);
        if (scope != TrainingScope.None)
        {
            if (scope != TrainingScope.QuantizationScales) throw new ArgumentException("synthetic models train their scales only");
            var scales = model.AllParameters.Where(p => p.IsQuantizationScale).OrderBy(p => p.Name, IO.Utf8Ordinal.Comparer).ToList();
            for (int t = 0; t < scales.Count; t++) scales[t].TrainableIndex = t;
        }
        return model;
    }
}
