using Qzo.Compute;
using Qzo.Models.Pipeline;
using Qzo.Text;

namespace Qzo.Models;

/// <summary>A checkpoint opened for work: its files, its tokenizer, and the model on a backend.</summary>
public sealed class ModelSession : IDisposable
{
    ModelSession(Checkpoint checkpoint, Tokenizer tokenizer, CausalLanguageModel model)
    {
        Checkpoint = checkpoint;
        Tokenizer = tokenizer;
        Model = model;
    }

    public Checkpoint Checkpoint { get; }
    public Tokenizer Tokenizer { get; }
    public CausalLanguageModel Model { get; }
    /// <summary>The id used to pad batches: the tokenizer's, else config.json's, else 0 (as QZO's code does for Llama).</summary>
    public int PadId => Tokenizer.PadId ?? Checkpoint.Config.PadTokenId ?? 0;

    /// <param name="pipeline">this rank's stage when the model is split across ranks by layers: only its part is loaded.</param>
    public static ModelSession Open(string directory, IBackend backend, TrainingScope scope, IProgress<double>? progress = null,
                                    PipelineStage? pipeline = null)
    {
        var checkpoint = Checkpoint.Open(directory);
        try
        {
            var tokenizer = Tokenizer.Load(directory);
            if (tokenizer.VocabSize > checkpoint.Config.VocabSize)
                throw new QzoException(
                    $"{directory}: the tokenizer has {tokenizer.VocabSize} tokens but config.json's vocab_size is " +
                    $"{checkpoint.Config.VocabSize}");
            var model = pipeline is null ? ModelLoader.Load(checkpoint, backend, scope, progress)
                : ModelLoader.LoadStage(checkpoint, backend, scope, pipeline, progress);
            return new ModelSession(checkpoint, tokenizer, model);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Checkpoint.Dispose();
    }
}
