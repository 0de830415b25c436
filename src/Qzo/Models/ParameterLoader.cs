using Qzo.Compute;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Quantization;

namespace Qzo.Models;

/// <summary>
/// Moves a checkpoint's tensors onto a backend one by one, checking each shape against what config.json
/// implies, and remembers which tensors were used. Each linear is loaded in the form its tensors are stored in
/// (<see cref="QuantizedLinearLoaders"/>), so mixed checkpoints load. The families under Models/Architectures
/// say which tensors make up the model, and load only those of <see cref="Part"/> (a pipeline rank's share).
/// </summary>
sealed class ParameterLoader(Checkpoint checkpoint, IBackend backend, TrainingScope scope, ModelPart? part = null)
{
    readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Checkpoint Checkpoint { get; } = checkpoint;
    public IBackend Backend { get; } = backend;
    /// <summary>
    /// The layers and ends to load: the whole model unless a pipeline rank's share was given (read only by language models:
    /// a diffusion component's checkpoint has no language-model config).
    /// </summary>
    public ModelPart Part => part ?? ModelPart.Whole(Checkpoint.Config.Layers);

    public bool TrainsScales => scope is TrainingScope.QuantizationScales or TrainingScope.ScalesAndUnquantized;
    bool TrainsUnquantized => scope is TrainingScope.AllWeights or TrainingScope.ScalesAndUnquantized;

    /// <summary>Marks a tensor the model deliberately ignores (e.g. a stored copy of a tied lm_head).</summary>
    public void Ignore(string name) => _used.Add(name);

    /// <summary>Checkpoint tensors no loader asked for (RoPE caches some writers store aside).</summary>
    public IReadOnlyList<string> Unused() =>
        Checkpoint.Tensors.Names.Where(n => !_used.Contains(n) && !n.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)).ToList();

    /// <summary>Numbers the trainable tensors t = 0, 1, ... in ordinal name order (docs/algorithm.md §5).</summary>
    public void MarkTrainable(CausalLanguageModel model)
    {
        var quantized = model.AllLinears.OfType<IQuantizedLinear>().ToList();
        CheckScope(quantized.Count, quantized.FirstOrDefault()?.Method);
        Number(model, TrainableNames(model));
    }

    /// <summary>Refuses a scope the checkpoint's linears cannot serve (given how many of them are quantized, and one's method).</summary>
    public void CheckScope(int quantizedLinears, string? method)
    {
        if (scope is TrainingScope.QuantizationScales or TrainingScope.ScalesAndUnquantized && quantizedLinears == 0)
            throw new QzoException(
                $"{Checkpoint.Directory}: no quantized linear layers to train; QZO trains quantization scales (run `qzo quantize` first, " +
                "or use --method mezo)");
        if (scope == TrainingScope.AllWeights && quantizedLinears > 0)
            throw new QzoException(
                $"{Checkpoint.Directory}: MeZO trains the weights of an unquantized checkpoint, but this one is " +
                $"{method}-quantized (use --method qzo)");
    }

    /// <summary>The names of the tensors of <paramref name="model"/> the scope trains.</summary>
    public IReadOnlyList<string> TrainableNames(CausalLanguageModel model) => scope == TrainingScope.None ? []
        : model.AllParameters.Where(p => p.IsQuantizationScale ? TrainsScales : TrainsUnquantized).Select(p => p.Name).ToList();

    /// <summary>
    /// Gives each of the model's tensors named in <paramref name="trainable"/> its index: its place in ordinal name order among
    /// them all, which may name tensors that other pipeline ranks hold, so that every rank numbers as one model would.
    /// </summary>
    public static void Number(CausalLanguageModel model, IEnumerable<string> trainable)
    {
        var ordered = trainable.Distinct().Order(Utf8Ordinal.Comparer).ToList();
        var index = ordered.Select((name, t) => (name, t)).ToDictionary(e => e.name, e => e.t, StringComparer.Ordinal);
        foreach (var p in model.AllParameters)
            if (index.TryGetValue(p.Name, out int t)) p.TrainableIndex = t;
    }

    /// <summary>
    /// A float tensor on the device: an fp32 master if it will train (or is a quantization scale, which dequantization
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

    /// <summary>
    /// The linear stored under <paramref name="prefix"/>: quantized when its tensors say so (GPTQ's qweight, AQLM's
    /// codes, bitsandbytes' weight.absmax), else dense, so mixed checkpoints load.
    /// </summary>
    public ILinear Linear(string prefix, int inFeatures, int outFeatures, bool hasBias)
    {
        var quantized = QuantizedLinearLoaders.For(Checkpoint.Tensors, prefix);
        Parameter? bias = null;
        // Quantized writers may store a bias even where the config says none; use it when present, as their loaders do.
        if (hasBias || (quantized is not null && Checkpoint.Tensors.Contains(prefix + ".bias")))
            bias = Dense(prefix + ".bias", [outFeatures]);
        if (quantized is null) return new DenseLinear(prefix, Dense(prefix + ".weight", [outFeatures, inFeatures]), bias);
        try { return quantized(this, prefix, inFeatures, outFeatures, bias); }
        catch { bias?.Dispose(); throw; }
    }

    /// <summary>A trainable quantization scale whose fp32 values the format decoded itself (e.g. from a double-quantized absmax).</summary>
    public Parameter ScaleMaster(string name, long[] shape, DType storedDType, float[] values)
    {
        var tensor = Backend.Allocate(DType.F32, values.Length, MemoryCategory.TrainableScales);
        Backend.Upload<float>(tensor, values);
        return new Parameter(name, shape, storedDType, tensor) { IsQuantizationScale = true };
    }

    /// <summary>Frozen quantized data on the device, as raw little-endian bytes of <paramref name="dtype"/>.</summary>
    public DeviceTensor Frozen(ReadOnlySpan<byte> bytes, DType dtype)
    {
        var tensor = Backend.Allocate(dtype, bytes.Length / dtype.SizeInBytes(), MemoryCategory.QuantizedWeights);
        Backend.Upload<byte>(tensor, bytes);
        return tensor;
    }

    public DeviceTensor UploadInts(int[] values, MemoryCategory category)
    {
        var tensor = Backend.Allocate(DType.I32, values.Length, category);
        Backend.Upload<int>(tensor, values);
        return tensor;
    }

    /// <summary>
    /// Every tensor the model loads passes through here, so this is where a floating-point one is checked, once, for
    /// NaN and Inf: such a value would only show later as a NaN loss, which looks like a learning-rate problem.
    /// </summary>
    public TensorInfo Require(string name)
    {
        if (!Checkpoint.Tensors.Contains(name))
            throw new QzoException($"{Checkpoint.Directory}: tensor '{name}' is missing from the checkpoint");
        var info = Checkpoint.Tensors.Get(name);
        if (_used.Add(name) && info.DType.IsFloat()) RequireFinite(info);
        return info;
    }

    unsafe void RequireFinite(TensorInfo info)
    {
        var file = Checkpoint.Tensors.FileOf(info.Name);
        long count = NonFiniteValues.Count(info.DType, file.GetPointer(info.Name, out long bytes), bytes);
        if (count > 0)
            throw new QzoException($"{file.Path}: tensor '{info.Name}' holds {count} non-finite value{(count == 1 ? "" : "s")} (NaN/Inf)");
    }

    public void CheckShape(TensorInfo info, long[] expected, params DType[] dtypes)
    {
        if (!info.Shape.SequenceEqual(expected))
            throw new QzoException(
                $"{FileOf(info.Name)}: tensor '{info.Name}' has shape [{string.Join(", ", info.Shape)}] but config.json implies " +
                $"[{string.Join(", ", expected)}]");
        if (dtypes.Length > 0 && !dtypes.Contains(info.DType))
            throw new QzoException(
                $"{FileOf(info.Name)}: tensor '{info.Name}' has dtype {info.DType.Name()}, expected " +
                $"{string.Join(" or ", dtypes.Select(d => d.Name()))}");
    }

    public string FileOf(string name) => Checkpoint.Tensors.Contains(name) ? Checkpoint.Tensors.FileOf(name).Path : Checkpoint.Directory;
}
