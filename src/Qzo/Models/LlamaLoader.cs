using Qzo.Compute;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Quantization;

namespace Qzo.Models;

/// <summary>
/// Moves a checkpoint's tensors onto a backend as a <see cref="LlamaModel"/>, checking every shape
/// against config.json. A linear whose `qweight` exists is GPTQ; otherwise it is dense (mixed checkpoints load).
/// </summary>
public sealed class LlamaLoader
{
    readonly Checkpoint _checkpoint;
    readonly IBackend _backend;
    readonly TrainingScope _scope;
    readonly HashSet<string> _used = new(StringComparer.Ordinal);

    LlamaLoader(Checkpoint checkpoint, IBackend backend, TrainingScope scope)
    {
        _checkpoint = checkpoint;
        _backend = backend;
        _scope = scope;
    }

    public static LlamaModel Load(Checkpoint checkpoint, IBackend backend, TrainingScope scope, IProgress<double>? progress = null)
    {
        var loader = new LlamaLoader(checkpoint, backend, scope);
        return loader.Build(scope, progress);
    }

    bool TrainsScales => _scope is TrainingScope.QuantizationScales or TrainingScope.ScalesAndUnquantized;
    bool TrainsUnquantized => _scope is TrainingScope.AllWeights or TrainingScope.ScalesAndUnquantized;

    LlamaModel Build(TrainingScope scope, IProgress<double>? progress)
    {
        var c = _checkpoint.Config;
        int h = c.HiddenSize, q = c.Heads * c.HeadDim, kv = c.KvHeads * c.HeadDim;
        var embedding = Dense("model.embed_tokens.weight", [c.VocabSize, h]);
        var layers = new List<LlamaLayer>();
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            layers.Add(new LlamaLayer
            {
                InputNorm = Dense(p + "input_layernorm.weight", [h]),
                PostAttentionNorm = Dense(p + "post_attention_layernorm.weight", [h]),
                Q = Linear(p + "self_attn.q_proj", h, q, c.AttentionBias),
                K = Linear(p + "self_attn.k_proj", h, kv, c.AttentionBias),
                V = Linear(p + "self_attn.v_proj", h, kv, c.AttentionBias),
                O = Linear(p + "self_attn.o_proj", q, h, c.AttentionBias),
                Gate = Linear(p + "mlp.gate_proj", h, c.IntermediateSize, c.MlpBias),
                Up = Linear(p + "mlp.up_proj", h, c.IntermediateSize, c.MlpBias),
                Down = Linear(p + "mlp.down_proj", c.IntermediateSize, h, c.MlpBias),
            });
            progress?.Report((i + 1.0) / (c.Layers + 1));
        }
        var finalNorm = Dense("model.norm.weight", [h]);
        ILinear lmHead = c.TieWordEmbeddings
            ? new DenseLinear("lm_head", embedding, null)
            : Linear("lm_head", h, c.VocabSize, hasBias: false);
        if (c.TieWordEmbeddings) _used.Add("lm_head.weight"); // transformers ties it to the embedding and ignores a stored copy

        var unused = _checkpoint.Tensors.Names.Where(n => !_used.Contains(n) && !n.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)).ToList();
        var model = new LlamaModel(c, _backend, embedding, layers, finalNorm, lmHead, unused);
        MarkTrainable(model, scope);
        progress?.Report(1.0);
        return model;
    }

    void MarkTrainable(LlamaModel model, TrainingScope scope)
    {
        if (scope == TrainingScope.None) return;
        var quantized = model.AllLinears.OfType<GptqLinear>().ToList();
        if (scope is TrainingScope.QuantizationScales or TrainingScope.ScalesAndUnquantized && quantized.Count == 0)
            throw new QzoException($"{_checkpoint.Directory}: no quantized linear layers to train; QZO trains GPTQ scales (run `qzo quantize` first, or use --method mezo)");
        if (scope == TrainingScope.AllWeights && quantized.Count > 0)
            throw new QzoException($"{_checkpoint.Directory}: MeZO trains the weights of an unquantized checkpoint, but this one is GPTQ-quantized (use --method qzo)");

        var trainable = model.AllParameters.Where(p => p.IsQuantizationScale ? TrainsScales : TrainsUnquantized);
        var ordered = trainable.OrderBy(p => p.Name, Utf8Ordinal.Comparer).ToList();
        for (int t = 0; t < ordered.Count; t++) ordered[t].TrainableIndex = t;
    }

    /// <summary>
    /// A float tensor on the device: an fp32 master if it will train (or is a GPTQ scale, which dequantization
    /// reads as fp32), else in the backend's compute type, uploaded without a float round trip where the dtypes agree.
    /// </summary>
    Parameter Dense(string name, long[] expectedShape, bool isScale = false)
    {
        var info = Require(name);
        CheckShape(info, expectedShape);
        if (!info.DType.IsFloat())
            throw new QzoException($"{FileOf(name)}: tensor '{name}' has dtype {info.DType.Name()}, expected a floating-point type");
        bool master = isScale || (TrainsUnquantized && !isScale);
        var dtype = master ? DType.F32 : _backend.ComputeType;
        var category = isScale ? MemoryCategory.TrainableScales : MemoryCategory.OtherWeights;
        var values = _backend.Allocate(dtype, info.ElementCount, category);
        if (info.DType == dtype) _backend.Upload<byte>(values, _checkpoint.Tensors.FileOf(name).GetBytes(name));
        else if (dtype == DType.F32) _backend.Upload<float>(values, _checkpoint.Tensors.ReadFloat32(name));
        else _backend.Upload<byte>(values, DTypes.FromSingle(dtype, _checkpoint.Tensors.ReadFloat32(name)));
        return new Parameter(name, info.Shape, info.DType, values) { IsQuantizationScale = isScale };
    }

    ILinear Linear(string prefix, int inFeatures, int outFeatures, bool hasBias)
    {
        Parameter? bias = null;
        bool quantized = _checkpoint.Tensors.Contains(prefix + ".qweight");
        // GPTQ writers may store a bias even where the config says none; use it when present, as GPTQModel does.
        if (hasBias || (quantized && _checkpoint.Tensors.Contains(prefix + ".bias")))
            bias = Dense(prefix + ".bias", [outFeatures]);
        if (!quantized) return new DenseLinear(prefix, Dense(prefix + ".weight", [outFeatures, inFeatures]), bias);

        var gptq = _checkpoint.Gptq ?? throw new QzoException(
            $"{FileOf(prefix + ".qweight")}: '{prefix}.qweight' is GPTQ-packed but config.json has no quantization_config and there is no quantize_config.json");
        int bits = gptq.Bits;
        int groupSize = gptq.EffectiveGroupSize(inFeatures);
        int groups = (inFeatures + groupSize - 1) / groupSize;
        if (inFeatures * bits % 32 != 0 || outFeatures * bits % 32 != 0)
            throw new QzoException($"{FileOf(prefix + ".qweight")}: '{prefix}' has {inFeatures} inputs and {outFeatures} outputs, which {bits}-bit GPTQ cannot pack into 32-bit words");

        var qweightInfo = Require(prefix + ".qweight");
        CheckShape(qweightInfo, [inFeatures * bits / 32, outFeatures], DType.I32);
        var qzerosInfo = Require(prefix + ".qzeros");
        CheckShape(qzerosInfo, [groups, outFeatures * bits / 32], DType.I32);
        var scalesInfo = Require(prefix + ".scales");
        CheckShape(scalesInfo, [groups, outFeatures]);

        int[] gIdx;
        if (_checkpoint.Tensors.Contains(prefix + ".g_idx"))
        {
            var gIdxInfo = Require(prefix + ".g_idx");
            CheckShape(gIdxInfo, [inFeatures], DType.I32);
            gIdx = _checkpoint.Tensors.ReadInt32(prefix + ".g_idx");
            for (int i = 0; i < gIdx.Length; i++)
                if ((uint)gIdx[i] >= (uint)groups)
                    throw new QzoException($"{FileOf(prefix + ".g_idx")}: '{prefix}.g_idx'[{i}] = {gIdx[i]} is not a group of this layer (0..{groups - 1})");
        }
        else gIdx = GptqPacking.DefaultGIdx(inFeatures, groupSize);

        var qweight = UploadInts(_checkpoint.Tensors.ReadInt32(prefix + ".qweight"), MemoryCategory.QuantizedWeights);
        var qzeros = UploadInts(_checkpoint.Tensors.ReadInt32(prefix + ".qzeros"), MemoryCategory.QuantizedWeights);
        var gIdxTensor = UploadInts(gIdx, MemoryCategory.QuantizedWeights);
        var scales = Dense(prefix + ".scales", [groups, outFeatures], isScale: true);
        var shape = new GptqKernelShape(inFeatures, outFeatures, groups, bits, gptq.Format == GptqCheckpointFormat.Gptq);
        return new GptqLinear(prefix, qweight, qzeros, gIdxTensor, scales, bias, shape);
    }

    DeviceTensor UploadInts(int[] values, MemoryCategory category)
    {
        var tensor = _backend.Allocate(DType.I32, values.Length, category);
        _backend.Upload<int>(tensor, values);
        return tensor;
    }

    TensorInfo Require(string name)
    {
        if (!_checkpoint.Tensors.Contains(name))
            throw new QzoException($"{_checkpoint.Directory}: tensor '{name}' is missing from the checkpoint");
        _used.Add(name);
        return _checkpoint.Tensors.Get(name);
    }

    void CheckShape(TensorInfo info, long[] expected, DType? dtype = null)
    {
        if (!info.Shape.SequenceEqual(expected))
            throw new QzoException($"{FileOf(info.Name)}: tensor '{info.Name}' has shape [{string.Join(", ", info.Shape)}] but config.json implies [{string.Join(", ", expected)}]");
        if (dtype is DType d && info.DType != d)
            throw new QzoException($"{FileOf(info.Name)}: tensor '{info.Name}' has dtype {info.DType.Name()}, expected {d.Name()}");
    }

    string FileOf(string name) => _checkpoint.Tensors.Contains(name) ? _checkpoint.Tensors.FileOf(name).Path : _checkpoint.Directory;
}
