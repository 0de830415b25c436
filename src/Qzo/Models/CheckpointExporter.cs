using Qzo.Compute;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// Writes a tuned model in its input's format: a copy of the checkpoint folder in which only the trained
/// tensors' bytes change (same names, dtypes, shapes, header, shards, config and tokenizer files). Quantized
/// linears re-encode their own scales (<see cref="IQuantizedLinear.ExportScales"/>); other trained tensors are
/// narrowed to their stored dtype.
/// </summary>
public static class CheckpointExporter
{
    /// <returns>the largest re-encoding error of any quantized linear's scales (see <see cref="ScaleExport"/>)</returns>
    public static ExportSummary Export(Checkpoint source, CausalLanguageModel model, string output, bool overwrite = false) =>
        Export(source, model.Backend, model.AllLinears, model.Trainable, output, overwrite);

    /// <summary>
    /// Any model loaded from <paramref name="source"/>: its linears (quantized ones with trained scales re-encode them) and
    /// its trained parameters (<see cref="Parameter.TrainableIndex"/> set).
    /// </summary>
    public static ExportSummary Export(Checkpoint source, IBackend backend, IEnumerable<ILinear> linears, IEnumerable<Parameter> trainable,
                                       string output, bool overwrite = false)
    {
        var encoded = Encode(backend, linears, trainable);
        Write(source, encoded.Tensors, output, overwrite);
        return encoded.Summary;
    }

    /// <summary>Every trained tensor's bytes as the checkpoint stores them, by name, and how far the encoding moved the scales.</summary>
    public static EncodedTensors Encode(IBackend backend, IEnumerable<ILinear> linears, IEnumerable<Parameter> trainable)
    {
        var tensors = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        var exported = new HashSet<Parameter>();
        double maxError = 0, maxRelative = 0;
        foreach (var linear in linears.OfType<IQuantizedLinear>().Where(l => l.Scales.TrainableIndex is not null))
        {
            var export = linear.ExportScales(backend);
            foreach (var (name, bytes) in export.Tensors) tensors[name] = bytes;
            maxError = Math.Max(maxError, export.MaxEncodingError);
            maxRelative = Math.Max(maxRelative, export.MaxRelativeEncodingError);
            exported.Add(linear.Scales);
        }
        foreach (var parameter in trainable.Where(p => !exported.Contains(p)))
            tensors[parameter.Name] = DTypes.FromSingle(parameter.StoredDType, parameter.Download(backend));
        return new EncodedTensors(tensors, new ExportSummary(maxError, maxRelative));
    }

    /// <summary>
    /// A copy of <paramref name="source"/>'s folder in <paramref name="output"/> in which the named tensors hold the given bytes.
    /// </summary>
    public static void Write(Checkpoint source, IReadOnlyDictionary<string, ReadOnlyMemory<byte>> tensors, string output,
                             bool overwrite = false)
    {
        if (Path.GetFullPath(output).TrimEnd('/') == Path.GetFullPath(source.Directory).TrimEnd('/'))
            throw new QzoException($"{output}: refusing to overwrite the input checkpoint; choose another output folder");

        var byFile = new Dictionary<string, Dictionary<string, ReadOnlyMemory<byte>>>();
        foreach (var (name, bytes) in tensors)
        {
            var file = source.Tensors.FileOf(name).Path;
            if (!byFile.TryGetValue(file, out var replacements)) byFile[file] = replacements = new();
            replacements[name] = bytes;
        }

        OutputFolder.Write(output, overwrite, temporary =>
        {
            var rewritten = byFile.Keys.Select(f => Path.GetRelativePath(source.Directory, f)).ToHashSet();
            OutputFolder.CopyContents(source.Directory, temporary, skip: rewritten.Contains);
            foreach (var (file, replacements) in byFile)
            {
                var safetensors = source.Tensors.Files.First(f => f.Path == file);
                SafetensorsWriter.WriteReplacing(safetensors, Path.Combine(temporary, Path.GetRelativePath(source.Directory, file)),
                    replacements);
            }
        });
    }
}

/// <summary>Trained tensors encoded as their checkpoint stores them (name → bytes), with the encoding's error.</summary>
public sealed record EncodedTensors(IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Tensors, ExportSummary Summary);

/// <summary>
/// How far the written scales are from the tuned masters because of their storage format (0 when stored exactly up to dtype rounding).
/// </summary>
public sealed record ExportSummary(double MaxEncodingError, double MaxRelativeEncodingError);
