using Qzo.Models;
using Qzo.Training;

namespace Qzo.Tasks;

/// <summary>
/// The training core wired to a causal language model: which tensors a method trains, the model's trainable set,
/// its objective and its validation, in one <see cref="FineTuneLoop{TExample}"/>.
/// </summary>
public static class LanguageModelTraining
{
    /// <summary>MeZO trains every weight; QZO the quantization scales, and with --train-unquantized the unquantized tensors too.</summary>
    public static TrainingScope Scope(ZoOptions options) =>
        options.Method == ZoMethod.Mezo ? TrainingScope.AllWeights
        : options.TrainUnquantized ? TrainingScope.ScalesAndUnquantized : TrainingScope.QuantizationScales;

    public static ParameterTrainableSet TrainableSet(CausalLanguageModel model) => new(model.Backend, model.Trainable);

    /// <param name="validation">held-out examples scored by loss (and accuracy) at the run's batch size; null: no validation.</param>
    /// <param name="parallel">as one data-parallel rank: the batches and the validation are sharded across its communicator.</param>
    public static FineTuneLoop<Example> Loop(CausalLanguageModel model, ZoOptions options, IReadOnlyList<Example> train,
                                             IReadOnlyList<Example>? validation, int padId, MetricsWriter metrics, bool keepBest = true,
                                             DataParallel? parallel = null) =>
        Loop(model, options, train,
             validation is null ? null
                 : () => Evaluator.Evaluate(model, validation, options.BatchSize, padId, communicator: parallel?.Communicator),
             padId, metrics, keepBest, parallel: parallel);

    /// <param name="validate">evaluates the model as it is now (e.g. a task metric); null: no validation.</param>
    public static FineTuneLoop<Example> Loop(CausalLanguageModel model, ZoOptions options, IReadOnlyList<Example> train,
                                             Func<EvaluationResult>? validate, int padId, MetricsWriter metrics, bool keepBest = true,
                                             RunCheckpointing? checkpointing = null, DataParallel? parallel = null)
    {
        model.Backend.QuantizedLinearPrecision = options.Compute;
        var objective = PrecisionComparison<Example>.Wrap(new LanguageModelObjective(model, padId), model.Backend, options);
        return new(objective, TrainableSet(model), options, train, validate, metrics, keepBest, checkpointing, parallel: parallel);
    }
}
