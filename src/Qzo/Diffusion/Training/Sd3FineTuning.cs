using Qzo.Compute;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Schedulers;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.Models;
using Qzo.Training;

namespace Qzo.Diffusion.Training;

/// <summary>
/// The training core wired to an SD3 pipeline folder whose transformer is bitsandbytes NF4: the transformer with its
/// absmax numbered for training (<see cref="Sd3TrainableScales"/>), the objective the settings name, validation at
/// fixed draws, sample grids and saving. Only the transformer is loaded; the objective reads the VAE's shift and scaling
/// factors and the scheduler's table from their config files, and the VAE is loaded only while samples are decoded.
/// </summary>
public sealed class Sd3FineTuning : IDisposable
{
    Sd3FineTuning(Sd3PipelineFolder pipeline, Sd3FinetuneSettings settings, Sd3Transformer transformer, IReadOnlyList<Parameter> scales,
                  ISd3Noising noising)
    {
        Pipeline = pipeline;
        Settings = settings;
        Transformer = transformer;
        Scales = scales;
        Trainable = Sd3TrainableScales.Set(transformer, scales);
        Objective = new Sd3DiffusionObjective(transformer, noising, settings.ForwardBatch);
    }

    public Sd3PipelineFolder Pipeline { get; }
    public Sd3FinetuneSettings Settings { get; }
    public Sd3Transformer Transformer { get; }
    /// <summary>The trained absmax masters in index order.</summary>
    public IReadOnlyList<Parameter> Scales { get; }
    public ITrainableSet Trainable { get; }
    public Sd3DiffusionObjective Objective { get; }
    public long TrainableValues => Scales.Sum(s => s.Length);
    /// <summary>With --compare-compute, the last <see cref="Loop"/>'s second evaluation of every probe; else null.</summary>
    public PrecisionComparison<CachedImageCaption>? Comparison { get; private set; }

    /// <param name="modelFolder">a diffusers StableDiffusion3Pipeline folder whose transformer/ is bitsandbytes 4-bit</param>
    public static Sd3FineTuning Open(string modelFolder, Sd3FinetuneSettings settings, IBackend backend)
    {
        settings.Validate();
        backend.QuantizedLinearPrecision = settings.Optimizer.Compute; // the samples and validation too: what the run trains in
        var pipeline = Sd3PipelineFolder.Open(modelFolder);
        var noising = Noising(pipeline, settings.Objective);
        var transformer = Sd3Transformer.Load(pipeline.Transformer, backend);
        try { return new Sd3FineTuning(pipeline, settings, transformer, Sd3TrainableScales.Mark(transformer), noising); }
        catch
        {
            transformer.Dispose();
            throw;
        }
    }

    /// <summary>The objective's noising, from vae/config.json (shift and scaling factors) and scheduler/scheduler_config.json.</summary>
    public static ISd3Noising Noising(Sd3PipelineFolder pipeline, Sd3ObjectiveSettings objective)
    {
        var vae = VaeConfig.Load(Path.Combine(pipeline.Vae, "config.json"));
        var scheduler = FlowMatchEulerConfig.Read(Path.Combine(pipeline.Scheduler, "scheduler_config.json"));
        return objective.Kind == Sd3ObjectiveKind.QzoReference
            ? new DdpmReferenceNoising(scheduler.TrainTimesteps, (float)vae.ScalingFactor)
            : new FlowMatchingNoising(objective, new FlowMatchEulerScheduler(scheduler).TrainingSigmas(), (float)(vae.ShiftFactor ?? 0),
                                      (float)vae.ScalingFactor);
    }

    /// <summary>The held-out pairs each evaluation scores (the first <see cref="Sd3FinetuneSettings.ValidationLimit"/>).</summary>
    public IReadOnlyList<CachedImageCaption> ValidationSet(IReadOnlyList<CachedImageCaption> validation) =>
        Settings.ValidationLimit > 0 && Settings.ValidationLimit < validation.Count
            ? new Prefix(validation, Settings.ValidationLimit) : validation;

    public EvaluationResult Validate(IReadOnlyList<CachedImageCaption> validation) =>
        Objective.Evaluate(ValidationSet(validation), Settings.ValidationSeed);

    /// <param name="afterStep">see <see cref="FineTuneLoop{TExample}"/></param>
    public FineTuneLoop<CachedImageCaption> Loop(IReadOnlyList<CachedImageCaption> train, IReadOnlyList<CachedImageCaption> validation,
                                                 MetricsWriter metrics, RunCheckpointing? checkpointing = null,
                                                 Action<int>? afterStep = null)
    {
        Func<EvaluationResult>? validate = validation.Count == 0 ? null : () => Validate(validation);
        var objective = PrecisionComparison<CachedImageCaption>.Wrap(Objective, Transformer.Backend, Settings.Optimizer);
        Comparison = objective as PrecisionComparison<CachedImageCaption>;
        return new FineTuneLoop<CachedImageCaption>(objective, Trainable, Settings.Optimizer, train, validate, metrics, Settings.KeepBest,
                                                    checkpointing, afterStep);
    }

    /// <summary>The run's sample grid, or null when <see cref="Sd3FinetuneSettings.SampleCount"/> is 0 and no prompt is named.</summary>
    public Sd3SampleGrid? SampleGrid(IReadOnlyList<CachedImageCaption> validation, IReadOnlyList<CachedImageCaption> train,
                                     CachedImageCaption? negative)
    {
        var prompts = SamplePrompts(Settings, validation, train);
        return prompts.Count == 0 ? null
            : new Sd3SampleGrid(Transformer, Pipeline, prompts, Settings.SampleSeeds, Settings.SampleSteps, Settings.SampleGuidance,
                                negative);
    }

    /// <summary>
    /// The pairs whose cached embeddings the grid renders: each named caption's first pair (validation first, then train),
    /// or the first <see cref="Sd3FinetuneSettings.SampleCount"/> distinct captions of the validation pairs (train's without any).
    /// </summary>
    public static IReadOnlyList<CachedImageCaption> SamplePrompts(Sd3FinetuneSettings s, IReadOnlyList<CachedImageCaption> validation,
                                                                  IReadOnlyList<CachedImageCaption> train)
    {
        if (s.SamplePrompts.Count > 0)
            return s.SamplePrompts.Select(caption => validation.Concat(train).FirstOrDefault(e => e.Caption == caption)
                ?? throw new QzoException($"--sample-prompt '{caption}': no cached pair has this caption (samples use cached embeddings; " +
                                          "give a caption of the training or validation data)")).ToList();
        var source = validation.Count > 0 ? validation : train;
        var chosen = new List<CachedImageCaption>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < source.Count && chosen.Count < s.SampleCount; i++)
            if (seen.Add(source[i].Caption)) chosen.Add(source[i]);
        return chosen;
    }

    /// <summary>The tuned pipeline in the input's layout (<see cref="Sd3PipelineExport"/>).</summary>
    public Sd3ExportSummary Save(string output, bool overwrite = false) =>
        Sd3PipelineExport.Save(Pipeline, Transformer, Scales, output, overwrite);

    public void Dispose() => Transformer.Dispose();

    /// <summary>The first <paramref name="count"/> items of a list, read through it (a cache on disk stays on disk).</summary>
    sealed class Prefix(IReadOnlyList<CachedImageCaption> list, int count) : IReadOnlyList<CachedImageCaption>
    {
        public CachedImageCaption this[int index] =>
            (uint)index < (uint)count ? list[index] : throw new ArgumentOutOfRangeException(nameof(index));
        public int Count => count;
        public IEnumerator<CachedImageCaption> GetEnumerator()
        {
            for (int i = 0; i < count; i++) yield return list[i];
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
