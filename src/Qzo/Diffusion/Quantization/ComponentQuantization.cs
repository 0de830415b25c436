using System.Text.Json.Nodes;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Diffusion.Quantization;

/// <summary>
/// One component folder of a diffusers pipeline (transformer/, vae/, text_encoder*/) quantized to bitsandbytes 4-bit:
/// the linears <see cref="ComponentClass"/> names become Linear4bit tensors (Bnb4BitLinearTensors' layout), every other
/// tensor is copied as it is, the weights are written as save_pretrained shards them, config.json gains
/// quantization_config (BitsAndBytesConfig.to_dict, llm_int8_skip_modules null as both libraries leave it) and is written
/// as their to_json_file writes it, and the folder's other files are copied. Opened to plan (sizes, what it quantizes),
/// then <see cref="Write"/>n.
/// </summary>
public sealed class ComponentQuantization : IDisposable
{
    readonly Checkpoint _source;
    readonly Bnb4BitCheckpointFormat _format;

    ComponentQuantization(string name, string folder, ComponentClass type, Checkpoint source, Bnb4BitCheckpointFormat format)
    {
        Name = name;
        Folder = folder;
        Class = type;
        _source = source;
        _format = format;
        var tensors = source.Tensors.Names.Select(source.Tensors.Get).ToList();
        Linears = tensors.Select(t => (Tensor: t, Module: type.LinearOf(t))).Where(p => p.Module is not null && !type.Keeps(p.Module))
                         .ToDictionary(p => p.Tensor.Name, p => p.Module!, StringComparer.Ordinal);
        KeptLinears = tensors.Select(type.LinearOf).Count(m => m is not null && type.Keeps(m));
        SourceBytes = tensors.Sum(t => t.ByteLength);
        EstimatedBytes = tensors.Sum(t => Linears.ContainsKey(t.Name) ? format.QuantizedBytes(t.Shape[0], t.Shape[1]) : t.ByteLength);
        LargestTensorValues = tensors.Select(t => t.ElementCount).DefaultIfEmpty(0).Max();
        var dtype = tensors.FirstOrDefault(t => Linears.ContainsKey(t.Name))?.DType ?? DType.BF16;
        ComputeDType = TorchName(dtype, source.Tensors.Names.FirstOrDefault(Linears.ContainsKey) ?? "");
    }

    /// <summary>The component's name: its model_index.json key, or the folder's name.</summary>
    public string Name { get; }
    public string Folder { get; }
    public ComponentClass Class { get; }
    /// <summary>The weight tensors quantized, and their module names.</summary>
    public IReadOnlyDictionary<string, string> Linears { get; }
    /// <summary>nn.Linear modules left unquantized as the library leaves them (text_projection, T5's wo).</summary>
    public int KeptLinears { get; }
    public long SourceBytes { get; }
    public long EstimatedBytes { get; }
    public long LargestTensorValues { get; }
    /// <summary>bnb_4bit_compute_dtype: the quantized weights' own dtype, as loading with torch_dtype = that dtype gives.</summary>
    public string ComputeDType { get; }

    public static ComponentQuantization Open(string name, string folder, Bnb4BitCheckpointFormat format)
    {
        var type = ComponentClass.Of(folder) ?? throw new QzoException(
            $"{Path.Combine(folder, "config.json")}: not a component Qzo quantizes (supported: " +
            $"{string.Join(", ", ComponentClass.All.Select(c => c.Name))})");
        var source = Checkpoint.OpenComponent(folder);
        try
        {
            if (source.IsQuantized)
                throw new QzoException(
                    $"{Path.Combine(folder, "config.json")}: the component is already quantized ({source.Quantization!.Description})");
            return new ComponentQuantization(name, folder, type, source, format);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the quantized component into <paramref name="target"/> (created; nothing there yet); <paramref name="advance"/>
    /// is told the source bytes of each tensor as it is done.
    /// </summary>
    public ComponentQuantizeReport Write(string target, Action<long> advance)
    {
        Directory.CreateDirectory(target);
        var skip = new HashSet<string>(StringComparer.Ordinal) { "config.json" };
        foreach (var file in _source.Tensors.Files) skip.Add(Path.GetRelativePath(Folder, file.Path));
        if (_source.Tensors.IndexPath is string index) skip.Add(Path.GetRelativePath(Folder, index));
        OutputFolder.CopyContents(Folder, target, skip.Contains);

        var errors = new List<(string, double)>();
        var tensors = new List<LazyTensorToWrite>();
        using var work = new Bnb4BitLazyWork(Linears.Keys.Select(n => _source.Tensors.Get(n).ElementCount)
                                                          .Where(n => n <= Array.MaxLength).DefaultIfEmpty(0).Max());
        foreach (var name in _source.Tensors.Names)
        {
            var info = _source.Tensors.Get(name);
            var file = _source.Tensors.FileOf(name);
            if (!Linears.TryGetValue(name, out var module))
            {
                tensors.Add(new LazyTensorToWrite(name, info.DType, info.Shape, () =>
                {
                    advance(info.ByteLength);
                    return file.GetMemory(name);
                }));
                continue;
            }
            try
            {
                var dtype = TorchName(info.DType, name);
                if (info.ElementCount > Array.MaxLength) file.ReadFloat32(name); // refused as reading it would be, before any buffer
                var linear = new Bnb4BitLazyLinear(module, (start, destination) => file.ReadFloat32(name, start, destination),
                    info.Shape[0], info.Shape[1], _format, dtype, work, (linearName, error) =>
                    {
                        errors.Add((linearName, error));
                        advance(info.ByteLength);
                    });
                tensors.AddRange(linear.Tensors.Select(t => t with { Data = () => Naming(file.Path, name, t.Data) }));
            }
            catch (QzoException e) { throw new QzoException($"{file.Path}: '{name}': {e.Message}", e); }
        }
        ShardedSafetensorsWriter.Write(target, Class.WeightStem, tensors, Class.MaxShardBytes, new Dictionary<string, string>
        {
            ["format"] = "pt",
        }, makeAhead: true);
        work.Finish();

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "config.json")))!.AsObject();
        config["quantization_config"] = new BitsAndBytesConfig(_format.Type, _format.DoubleQuant, ComputeDType, null).ToJson();
        AtomicFile.WriteAllText(Path.Combine(target, "config.json"), PythonJson.Dumps(config));

        long written = Directory.GetFiles(target, Class.WeightStem + "*.safetensors").Sum(f => new FileInfo(f).Length);
        long before = _source.Tensors.Files.Sum(f => new FileInfo(f.Path).Length);
        return new ComponentQuantizeReport(Name, Class.Name, Class.Library, before, written, Linears.Count, KeptLinears,
                                           new QuantizeReport(errors));
    }

    /// <summary>A tensor made when the writer reaches it, a failure naming the file and the weight it came from.</summary>
    static ReadOnlyMemory<byte> Naming(string file, string weight, Func<ReadOnlyMemory<byte>> make)
    {
        try { return make(); }
        catch (QzoException e) { throw new QzoException($"{file}: '{weight}': {e.Message}", e); }
    }

    static string TorchName(DType dtype, string tensor) => dtype switch
    {
        DType.BF16 => "bfloat16",
        DType.F16 => "float16",
        DType.F32 => "float32",
        _ => throw new QzoException($"cannot quantize '{tensor}': a {dtype.Name()} weight (expected bf16, fp16 or fp32)"),
    };

    public void Dispose() => _source.Dispose();
}

/// <summary>What quantizing one component did: weight bytes on disk before and after, and each linear's error.</summary>
/// <param name="Library">"diffusers" or "transformers": whose rules chose the linears</param>
public sealed record ComponentQuantizeReport(string Name, string ClassName, string Library, long BytesBefore, long BytesAfter,
                                             int QuantizedLinears, int KeptLinears, QuantizeReport Errors);
