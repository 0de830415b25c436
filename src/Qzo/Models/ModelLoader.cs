using Qzo.Compute;

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
}
