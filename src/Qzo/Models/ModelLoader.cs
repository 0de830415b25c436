using Qzo.Compute;
using Qzo.Distributed;
using Qzo.Models.Pipeline;

namespace Qzo.Models;

/// <summary>Loads a checkpoint onto a backend as the model its config.json names, with the trainable tensors numbered.</summary>
public static class ModelLoader
{
    public static CausalLanguageModel Load(Checkpoint checkpoint, IBackend backend, TrainingScope scope, IProgress<double>? progress = null)
    {
        LoadFootprint.Check(checkpoint, backend, scope);
        var loader = new ParameterLoader(checkpoint, backend, scope);
        var model = checkpoint.Config.Architecture.Build(loader, checkpoint.Config, progress);
        try { loader.MarkTrainable(model); }
        catch { model.Dispose(); throw; }
        progress?.Report(1.0);
        return model;
    }

    /// <summary>
    /// One pipeline rank's part of the checkpoint (<see cref="ModelPart.OfRank"/>; docs/distributed.md §Pipeline): every
    /// rank calls it with its stage and reads only its own tensors. The ranks then agree through the communicator on what
    /// one model would be: the scope is checked against every rank's linears, the trainable tensors are numbered among
    /// every rank's (so z(seed, t, i) is the one-device run's), and a tensor is unused only when no rank uses it.
    /// </summary>
    public static CausalLanguageModel LoadStage(Checkpoint checkpoint, IBackend backend, TrainingScope scope, PipelineStage stage,
                                                IProgress<double>? progress = null)
    {
        var communicator = stage.Communicator;
        var part = ModelPart.OfRank(checkpoint.Config.Layers, communicator.Rank, communicator.WorldSize);
        LoadFootprint.Check(checkpoint, backend, scope, part);
        var loader = new ParameterLoader(checkpoint, backend, scope, part);
        var model = checkpoint.Config.Architecture.Build(loader, checkpoint.Config, progress);
        try
        {
            var methods = communicator.AllGather(model.AllLinears.OfType<IQuantizedLinear>().Select(l => l.Method).ToList())
                .SelectMany(m => m).ToList();
            loader.CheckScope(methods.Count, methods.FirstOrDefault());
            ParameterLoader.Number(model, communicator.AllGather(loader.TrainableNames(model)).SelectMany(names => names));
            var unusedByRank = communicator.AllGather(model.UnusedTensors);
            model.UnusedTensors = unusedByRank[0].Where(name => unusedByRank.All(unused => unused.Contains(name))).ToList();
            model.Pipeline = stage;
        }
        catch
        {
            model.Dispose();
            throw;
        }
        progress?.Report(1.0);
        return model;
    }
}
