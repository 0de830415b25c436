using Qzo.Compute;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Quantization;

namespace Qzo.Models;

/// <summary>
/// Moves a checkpoint's tensors onto a backend one by one, checking each shape against what config.json
/// implies, and remembers which tensors were used. A linear whose `qweight` exists is GPTQ; otherwise it is
/// dense (mixed checkpoints load). Architecture loaders (<see cref="LlamaLoader"/>, <see cref="OptLoader"/>)
/// say which tensors make up the model.
/// </summary>
sealed class ParameterLoader(Checkpoint checkpoint, IBackend backend, TrainingScope scope)
{
    readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Checkpoint Checkpoint { get; } = checkpoint;
    public IBackend Backend { get; } = backend;

    bool TrainsScales => scope is TrainingScope.QuantizationScales or TrainingScope.ScalesAndUnquantized;
    bool TrainsUnquantized => scope is TrainingScope.AllWeights or TrainingScope.ScalesAndUnquantized;

    /// <summary>Marks a tensor the model deliberately ignores (e.g. a stored copy of a tied lm_head).</summary>
    public void Ignore(string name) => _used.Add(name);

    /// <summary>Checkpoint tensors no loader asked for (RoPE caches some writers store aside).</summary>
    public IReadOnlyList<string> Unused() =>
        Checkpoint.Tensors.Names.Where(n => !_used.Contains(n) && !n.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)).ToList();

    /// <summary>Numbers the trainable tensors t = 0, 1, ... in ordinal name order (DESIGN.md §4).</summary>
    public void MarkTrainable(CausalLanguageModel model)
    {
        if (scope == TrainingScope.None) return;
        var quantized = model.AllLinears.OfType<GptqLinear>().ToList();
        if (scope is TrainingScope.QuantizationScales or TrainingScope.ScalesAndUnquantized && quantized.Count == 0)
            throw new QzoException($"{Checkpoint.Directory}: no quantized linear layers to train; QZO trains GPTQ scales (run `qzo quantize` first, or use --method mezo)");
        if (scope == TrainingScope.AllWeights && quantized.Count > 0)
            throw new QzoException($"{Checkpoint.Directory}: MeZO trains the weights of an unquantized checkpoint, but this one is GPTQ-quantized (use --method qzo)");

        var trainable = model.AllParameters.Where(p => p.IsQuantizationScale ? TrainsScales : TrainsUnquantized);
        var ordered = trainable.OrderBy(p => p.Name, Utf8Ordinal.Comparer).ToList();
        for (int t = 0; t < ordered.Count; t++) ordered[t].TrainableIndex = t;
    }

    /// <summary>
    /// A float tensor on the device: an fp32 master if it will train (or is a GPTQ scale, which dequantization
    /// reads as fp32), else in the backend's compute type, uploaded without a float round trip where the dtypes agree.
    /// </summary>
    public Parameter Dense(string name, long[] expectedShape, bool isScale = false)
    {
        var info = Require(name);
        CheckShape(info, expectedShape);
        if (!info.DType.IsFloat())
            throw new QzoException($"{FileOf(name)}: tensor '{name}' has dtype {info.DType.Name()}, expected a floating-point type");
        bool master = isScale || TrainsUnquantized;
        var dtype = master ? DType.F32 : Backend.ComputeType;
        var category = isScale ? MemoryCategory.TrainableScales : MemoryCategory.OtherWeights;
        var values = Backend.Allocate(dtype, info.ElementCount, category);
        if (info.DType == dtype) Backend.Upload<byte>(values, Checkpoint.Tensors.FileOf(name).GetBytes(name));
        else if (dtype == DType.F32) Backend.Upload<float>(values, Checkpoint.Tensors.ReadFloat32(name));
        else Backend.Upload<byte>(values, DTypes.FromSingle(dtype, Checkpoint.Tensors.ReadFloat32(name)));
        return new Parameter(name, info.Shape, info.DType, values) { IsQuantizationScale = isScale };
    }

    public ILinear Linear(string prefix, int inFeatures, int outFeatures, bool hasBias)
    {
        Parameter? bias = null;
        bool quantized = Checkpoint.Tensors.Contains(prefix + ".qweight");
        // GPTQ writers may store a bias even where the config says none; use it when present, as GPTQModel does.
        if (hasBias || (quantized && Checkpoint.Tensors.Contains(prefix + ".bias")))
            bias = Dense(prefix + ".bias", [outFeatures]);
        if (!quantized) return new DenseLinear(prefix, Dense(prefix + ".weight", [outFeatures, inFeatures]), bias);

        var gptq = Checkpoint.Gptq ?? throw new QzoException(
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
        if (Checkpoint.Tensors.Contains(prefix + ".g_idx"))
        {
            var gIdxInfo = Require(prefix + ".g_idx");
            CheckShape(gIdxInfo, [inFeatures], DType.I32);
            gIdx = Checkpoint.Tensors.ReadInt32(prefix + ".g_idx");
            for (int i = 0; i < gIdx.Length; i++)
                if ((uint)gIdx[i] >= (uint)groups)
                    throw new QzoException($"{FileOf(prefix + ".g_idx")}: '{prefix}.g_idx'[{i}] = {gIdx[i]} is not a group of this layer (0..{groups - 1})");
        }
        else gIdx = GptqPacking.DefaultGIdx(inFeatures, groupSize);

        var qweight = UploadInts(Checkpoint.Tensors.ReadInt32(prefix + ".qweight"), MemoryCategory.QuantizedWeights);
        var qzeros = UploadInts(Checkpoint.Tensors.ReadInt32(prefix + ".qzeros"), MemoryCategory.QuantizedWeights);
        var gIdxTensor = UploadInts(gIdx, MemoryCategory.QuantizedWeights);
        var scales = Dense(prefix + ".scales", [groups, outFeatures], isScale: true);
        var shape = new GptqKernelShape(inFeatures, outFeatures, groups, bits, gptq.Format == GptqCheckpointFormat.Gptq);
        return new GptqLinear(prefix, qweight, qzeros, gIdxTensor, scales, bias, shape);
    }

    DeviceTensor UploadInts(int[] values, MemoryCategory category)
    {
        var tensor = Backend.Allocate(DType.I32, values.Length, category);
        Backend.Upload<int>(tensor, values);
        return tensor;
    }

    TensorInfo Require(string name)
    {
        if (!Checkpoint.Tensors.Contains(name))
            throw new QzoException($"{Checkpoint.Directory}: tensor '{name}' is missing from the checkpoint");
        _used.Add(name);
        return Checkpoint.Tensors.Get(name);
    }

    void CheckShape(TensorInfo info, long[] expected, DType? dtype = null)
    {
        if (!info.Shape.SequenceEqual(expected))
            throw new QzoException($"{FileOf(info.Name)}: tensor '{info.Name}' has shape [{string.Join(", ", info.Shape)}] but config.json implies [{string.Join(", ", expected)}]");
        if (dtype is DType d && info.DType != d)
            throw new QzoException($"{FileOf(info.Name)}: tensor '{info.Name}' has dtype {info.DType.Name()}, expected {d.Name()}");
    }

    string FileOf(string name) => Checkpoint.Tensors.Contains(name) ? Checkpoint.Tensors.FileOf(name).Path : Checkpoint.Directory;
}
