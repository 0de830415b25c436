using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// Writes a tuned model in its input's format: a copy of the checkpoint folder in which only the trained
/// tensors' bytes change (same names, dtypes, shapes, header, shards, config and tokenizer files).
/// </summary>
public static class CheckpointExporter
{
    public static void Export(Checkpoint source, CausalLanguageModel model, string output, bool overwrite = false)
    {
        if (Path.GetFullPath(output).TrimEnd('/') == Path.GetFullPath(source.Directory).TrimEnd('/'))
            throw new QzoException($"{output}: refusing to overwrite the input checkpoint; choose another output folder");

        var byFile = new Dictionary<string, Dictionary<string, ReadOnlyMemory<byte>>>();
        foreach (var parameter in model.Trainable)
        {
            var values = parameter.Download(model.Backend);
            var file = source.Tensors.FileOf(parameter.Name).Path;
            if (!byFile.TryGetValue(file, out var replacements)) byFile[file] = replacements = new();
            replacements[parameter.Name] = DTypes.FromSingle(parameter.StoredDType, values);
        }

        OutputFolder.Write(output, overwrite, temporary =>
        {
            var rewritten = byFile.Keys.Select(f => Path.GetRelativePath(source.Directory, f)).ToHashSet();
            OutputFolder.CopyContents(source.Directory, temporary, skip: rewritten.Contains);
            foreach (var (file, replacements) in byFile)
            {
                var safetensors = source.Tensors.Files.First(f => f.Path == file);
                SafetensorsWriter.WriteReplacing(safetensors, Path.Combine(temporary, Path.GetRelativePath(source.Directory, file)), replacements);
            }
        });
    }
}
