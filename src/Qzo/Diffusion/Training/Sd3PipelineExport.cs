using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Sd3;
using Qzo.IO;
using Qzo.Models;

namespace Qzo.Diffusion.Training;

/// <summary>What a saved pipeline holds: the transformer's re-encoding error and how the frozen files got there.</summary>
/// <param name="LinkedFiles">files of the other components hard-linked to the input's</param>
/// <param name="CopiedFiles">files copied (model_index.json and the scheduler always; others where a link cannot be made)</param>
public sealed record Sd3ExportSummary(ExportSummary Transformer, int LinkedFiles, int CopiedFiles);

/// <summary>
/// Writes a tuned pipeline folder: transformer/ in the input's NF4 layout with only the trained absmax changed (fp32
/// absmax as they are; a double-quantized absmax re-encoded by the rule of docs/formats.md §6, via
/// <see cref="CheckpointExporter"/>), model_index.json and scheduler/ copied, and the files of the frozen components
/// (VAE, text encoders, tokenizers) hard-linked to the input's, which costs no disk and survives the input's deletion;
/// where the file system cannot link (another device) they are copied. The folder appears whole or not at all.
/// </summary>
public static class Sd3PipelineExport
{
    public static Sd3ExportSummary Save(Sd3PipelineFolder source, Sd3Transformer transformer, IReadOnlyList<Parameter> trained,
                                        string output, bool overwrite = false)
    {
        if (PathRelation.Canonical(output) == PathRelation.Canonical(source.Root))
            throw new QzoException($"{output}: refusing to overwrite the input pipeline; choose another output folder");
        int linked = 0, copied = 0;
        ExportSummary? summary = null;
        string transformerFolder = Path.GetFullPath(source.Transformer).TrimEnd('/');
        OutputFolder.Write(output, overwrite, temporary =>
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(source.Root))
            {
                string name = Path.GetFileName(entry), target = Path.Combine(temporary, name);
                if (Path.GetFullPath(entry).TrimEnd('/') == transformerFolder) continue;
                if (!Directory.Exists(entry))
                {
                    File.Copy(entry, target);
                    copied++;
                    continue;
                }
                bool link = Path.GetFullPath(entry).TrimEnd('/') != Path.GetFullPath(source.Scheduler).TrimEnd('/');
                foreach (var file in Directory.EnumerateFiles(entry, "*", SearchOption.AllDirectories))
                {
                    string destination = Path.Combine(target, Path.GetRelativePath(entry, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                    // Hub caches hold symlinks to blobs: link the blob itself, not the (relative) symlink.
                    if (link && Posix.TryHardLink(Posix.RealPath(file) ?? file, destination)) linked++;
                    else { File.Copy(file, destination); copied++; }
                }
            }
            using var checkpoint = Checkpoint.OpenComponent(source.Transformer);
            summary = CheckpointExporter.Export(checkpoint, transformer.Backend, transformer.AllLinears, trained,
                                                Path.Combine(temporary, "transformer"));
        });
        return new Sd3ExportSummary(summary!, linked, copied);
    }
}
