using Qzo.Diffusion.Pipelines;
using Qzo.IO;
using Qzo.Quantization.Bnb;

namespace Qzo.Diffusion.Quantization;

/// <summary>
/// `qzo quantize --method nf4` on diffusers folders: a whole Stable Diffusion 3 pipeline (model_index.json), whose chosen
/// components are quantized and everything else (the other components, tokenizers, scheduler, model_index.json) copied
/// unchanged; or one component folder. The output appears whole or not at all (<see cref="OutputFolder"/>); disk and
/// memory are checked before anything is written.
/// </summary>
public static class PipelineQuantizer
{
    /// <summary>The pipeline components that hold nn.Linear weights, by their model_index.json keys.</summary>
    public static readonly string[] QuantizableComponents = ["transformer", "text_encoder", "text_encoder_2", "text_encoder_3", "vae"];

    /// <summary>What the paper quantizes: the diffusion transformer.</summary>
    public static readonly string[] DefaultComponents = ["transformer"];

    public static bool IsDiffusersFolder(string folder) => Sd3PipelineFolder.IsPipeline(folder) || ComponentClass.Of(folder) is not null;

    /// <param name="components">model_index.json keys to quantize (null: <see cref="DefaultComponents"/>); only for a pipeline</param>
    public static IReadOnlyList<ComponentQuantizeReport> Quantize(string input, string output, IReadOnlyCollection<string>? components,
        Bnb4BitCheckpointFormat format, bool overwrite = false, IProgress<double>? progress = null)
    {
        if (!Bnb4BitQuantState.SupportedBlockSizes.Contains(format.BlockSize))
            throw new QzoException($"block size {format.BlockSize} is not one bitsandbytes supports " +
                                   $"({string.Join(", ", Bnb4BitQuantState.SupportedBlockSizes)})");
        if (!Sd3PipelineFolder.IsPipeline(input))
        {
            if (components is not null)
                throw new QzoException(
                    $"--components applies to a pipeline folder ({Sd3PipelineFolder.IndexFileName}); {input} is one component");
            using var single = ComponentQuantization.Open(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(input))),
                                                          input, format);
            CheckResources(output, [single], 0);
            ComponentQuantizeReport? report = null;
            OutputFolder.Write(output, overwrite, staging => report = single.Write(staging, Progress(progress, single.SourceBytes)));
            return [report!];
        }

        var pipeline = Sd3PipelineFolder.Open(input);
        var plans = new List<ComponentQuantization>();
        try
        {
            foreach (var key in Choose(pipeline, components ?? DefaultComponents))
                plans.Add(ComponentQuantization.Open(key, Path.Combine(input, key), format));
            var chosen = plans.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            bool Quantized(string relative) => chosen.Contains(relative.Split(Path.DirectorySeparatorChar)[0]);
            long copied = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                                   .Where(f => !Quantized(Path.GetRelativePath(input, f))).Sum(f => new FileInfo(f).Length);
            CheckResources(output, plans, copied);
            var reports = new List<ComponentQuantizeReport>();
            var advance = Progress(progress, plans.Sum(p => p.SourceBytes) + copied);
            OutputFolder.Write(output, overwrite, staging =>
            {
                // The components left as they are (T5-XXL alone is 9.5 GB) are copied while the others are quantized, and
                // count toward the progress as they are copied. A failed copy is the failure reported, as when it came first.
                var copying = Task.Factory.StartNew(() =>
                {
                    foreach (var file in Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories))
                    {
                        string relative = Path.GetRelativePath(input, file);
                        if (Quantized(relative)) continue;
                        string target = Path.Combine(staging, relative);
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        File.Copy(file, target);
                        advance(new FileInfo(file).Length);
                    }
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                try
                {
                    foreach (var plan in plans) reports.Add(plan.Write(Path.Combine(staging, plan.Name), advance));
                }
                catch
                {
                    ((IAsyncResult)copying).AsyncWaitHandle.WaitOne();
                    if (copying.IsFaulted) copying.GetAwaiter().GetResult();
                    throw;
                }
                copying.GetAwaiter().GetResult();
            });
            return reports;
        }
        finally
        {
            foreach (var plan in plans) plan.Dispose();
        }
    }

    /// <summary>The chosen components, in the pipeline's order, each one the pipeline has and that holds linears.</summary>
    static List<string> Choose(Sd3PipelineFolder pipeline, IReadOnlyCollection<string> components)
    {
        if (components.Count == 0) throw new QzoException("--components names no component");
        string index = Path.Combine(pipeline.Root, Sd3PipelineFolder.IndexFileName);
        foreach (var name in components)
        {
            if (!QuantizableComponents.Contains(name))
                throw new QzoException($"--components: '{name}' is not a component with weights to quantize (choose from " +
                                       $"{string.Join(", ", QuantizableComponents)})");
            if (name == "text_encoder_3" && pipeline.TextEncoder3 is null)
                throw new QzoException($"--components: {index} has no text_encoder_3 (it is [null, null])");
        }
        return QuantizableComponents.Where(components.Contains).ToList();
    }

    /// <summary>
    /// The disk must take the quantized components and the copied files; memory must hold a weight as fp32 three times
    /// (a margin kept from when the weight was read, decoded back, and copied for the encoder; it is now read into one
    /// buffer, Bnb4BitLazyWork's, and its error summed from the file).
    /// </summary>
    static void CheckResources(string output, IReadOnlyList<ComponentQuantization> plans, long copiedBytes)
    {
        ResourceBudget.RequireDisk("quantize", "the quantized pipeline", output, plans.Sum(p => p.EstimatedBytes) + copiedBytes);
        double largest = plans.Select(p => (double)p.LargestTensorValues).DefaultIfEmpty(0).Max();
        ResourceBudget.RequireHostMemory("quantize", "quantizing the largest weight", largest * sizeof(float) * 3);
    }

    static Action<long> Progress(IProgress<double>? progress, long total)
    {
        long done = 0;
        return bytes => // told by the writer and by the lane summing the errors (Bnb4BitLazyWork)
        {
            long now = Interlocked.Add(ref done, bytes);
            progress?.Report(total == 0 ? 1 : (double)now / total);
        };
    }
}
