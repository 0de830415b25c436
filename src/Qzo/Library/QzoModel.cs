using Qzo.Compute;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Tasks.Data;
using Qzo.Tasks.Definitions;
using Qzo.Training;

namespace Qzo;

/// <summary>
/// A checkpoint loaded for fine-tuning: the library's front door, a thin layer over the code `qzo finetune` and
/// `qzo eval` run (README.md, "As a library"). Load a Hugging Face folder (GPTQ, AQLM or bitsandbytes 4-bit for QZO,
/// unquantized for MeZO), read examples, evaluate, fine-tune, save. Not thread-safe; dispose it to free the device.
/// </summary>
public sealed class QzoModel : IDisposable
{
    readonly IBackend _backend;
    readonly ModelSession _session;
    readonly TrainingScope _scope;

    QzoModel(IBackend backend, ModelSession session, TrainingScope scope)
    {
        _backend = backend;
        _session = session;
        _scope = scope;
    }

    /// <summary>
    /// Opens a checkpoint folder (config.json, *.safetensors, tokenizer) on a device. What <paramref name="method"/>
    /// trains is made trainable: QZO the quantization scales (with <paramref name="trainUnquantized"/> also embeddings,
    /// norms, lm_head and biases), MeZO every weight.
    /// </summary>
    /// <param name="progress">the fraction loaded, 0 to 1.</param>
    public static QzoModel Load(string folder, ComputeDevice device = ComputeDevice.Auto, ZoMethod method = ZoMethod.Qzo,
                                bool trainUnquantized = false, IProgress<double>? progress = null)
    {
        var scope = LanguageModelTraining.Scope(new ZoOptions { Method = method, TrainUnquantized = trainUnquantized });
        var backend = ComputeDevices.CreateBackend(device);
        try { return new QzoModel(backend, ModelSession.Open(folder, backend, scope, progress), scope); }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Where it computes, e.g. "cpu" or "cuda (NVIDIA H100 ..., cuBLAS ...)".</summary>
    public string Backend => _backend.Name;
    /// <summary>How many values fine-tuning changes.</summary>
    public long TrainableValues => _session.Model.Trainable.Sum(p => p.Length);
    /// <summary>The most device memory held so far, in bytes.</summary>
    public long PeakMemoryBytes => _backend.Memory.PeakTotal;

    /// <summary>
    /// Examples from a JSONL file: `{"prompt", "completion"}` rows (loss on the completion), `{"text"}` or
    /// `{"input_ids"}` rows (loss on every token), or `{"text", "label"}` rows with a <paramref name="classification"/>
    /// format (one candidate per label). Longer sequences than <paramref name="maxLength"/> lose tokens on the left.
    /// </summary>
    public IReadOnlyList<Example> ReadExamples(string jsonlPath, int maxLength = 2048, ClassificationFormat? classification = null) =>
        JsonlDataset.LoadScored(jsonlPath, _session.Tokenizer, maxLength, classification).Examples;

    /// <summary>
    /// A task's data, as `qzo finetune --task` samples it by default: MeZO's protocol over the folder's train and
    /// validation splits (JSONL or the Hub's Parquet), with the task's sample sizes unless given.
    /// </summary>
    /// <param name="task">a built-in task name (`qzo tasks` lists them) or a task YAML file.</param>
    public QzoTask LoadTask(string task, string dataFolder, int? numTrain = null, int? numDev = null, int? numEval = null, uint seed = 0,
                            int maxLength = 2048, int evalBatchSize = 16)
    {
        var definition = TaskCatalog.Resolve(task);
        var splits = TaskSplits.Mezo(TaskDataFolder.ReadSplit(dataFolder, "train"), TaskDataFolder.ReadSplit(dataFolder, "validation"),
            numTrain ?? definition.Sampling.Train, numDev ?? definition.Sampling.Dev, numEval ?? definition.Sampling.Eval, seed);
        var encoder = new TaskEncoder(definition, _session.Tokenizer, maxLength);
        var evaluator = new TaskEvaluator(_session.Model, _session.Tokenizer, encoder, evalBatchSize, _session.PadId);
        return new QzoTask(definition, encoder, evaluator, splits);
    }

    /// <summary>Mean loss per scored token and perplexity (or classification loss and accuracy) on held-out examples.</summary>
    public EvaluationResult Evaluate(IReadOnlyList<Example> examples, int batchSize = 16) =>
        Evaluator.Evaluate(_session.Model, examples, batchSize, _session.PadId);

    /// <summary>The task's metric (accuracy, F1, exact match) on its test sample, zero-shot.</summary>
    public EvaluationResult Evaluate(QzoTask task) => task.Evaluator.Evaluate(task.Test).Result;

    /// <summary>
    /// Fine-tunes with QZO or MeZO (<see cref="ZoOptions.Method"/>, which must be the one the model was loaded for).
    /// With <paramref name="validation"/>, evaluates every <see cref="ZoOptions.EvalEvery"/> steps and at the end, and
    /// keeps the best state by loss; the model then holds the kept values.
    /// </summary>
    /// <param name="progress">called on this thread before the first step and after each one.</param>
    /// <param name="metricsPath">a metrics.jsonl to write, one line per step and per evaluation (replayable).</param>
    public TrainingSummary FineTune(IReadOnlyList<Example> train, ZoOptions options, IReadOnlyList<Example>? validation = null,
                                    Action<TrainingProgress>? progress = null, string? metricsPath = null,
                                    CancellationToken cancel = default)
    {
        CheckTrains(options);
        using var metrics = new MetricsWriter(metricsPath);
        return LanguageModelTraining.Loop(_session.Model, options, train, validation, _session.PadId, metrics)
            .Run(Callback(progress), cancel);
    }

    /// <summary>
    /// Fine-tunes on a task's train sample (loss on the answer's tokens), keeping the best state by the task metric on
    /// its dev sample, as `qzo finetune --task` does.
    /// </summary>
    public TrainingSummary FineTune(QzoTask task, ZoOptions options, Action<TrainingProgress>? progress = null, string? metricsPath = null,
                                    CancellationToken cancel = default)
    {
        CheckTrains(options);
        if (task.Train.Count == 0) throw new QzoException($"{task.Definition.Name}: the train sample is empty");
        var examples = task.Train.Select(task.Encoder.TrainingExample).ToList();
        Func<EvaluationResult>? validate = task.Dev.Count == 0 ? null : () => task.Evaluator.Evaluate(task.Dev).Result;
        using var metrics = new MetricsWriter(metricsPath);
        return LanguageModelTraining.Loop(_session.Model, options, examples, validate, _session.PadId, metrics)
            .Run(Callback(progress), cancel);
    }

    /// <summary>
    /// Writes the model in its input's format (only the trained tensors change), whole or not at all; an existing
    /// non-empty folder is replaced only with <paramref name="overwrite"/>.
    /// </summary>
    public void Save(string folder, bool overwrite = false) =>
        CheckpointExporter.Export(_session.Checkpoint, _session.Model, folder, overwrite);

    void CheckTrains(ZoOptions options)
    {
        if (LanguageModelTraining.Scope(options) != _scope)
            throw new QzoException(
                $"the model was loaded to train {_scope}, but these options train {LanguageModelTraining.Scope(options)}: pass the " +
                "same method (and trainUnquantized) to QzoModel.Load");
    }

    static CallbackProgress<TrainingProgress>? Callback(Action<TrainingProgress>? progress) => progress is null ? null : new(progress);

    /// <summary>Frees the model's device memory and closes the checkpoint's files.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _backend.Dispose();
    }
}
