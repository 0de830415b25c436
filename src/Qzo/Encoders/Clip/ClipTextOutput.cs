using Qzo.Compute;

namespace Qzo.Encoders.Clip;

/// <summary>
/// What one CLIP text pass returns, in the compute type, as transformers' CLIPTextModelOutput with
/// output_hidden_states=True: <see cref="LastHiddenState"/> [batch, seq, hidden] (after final_layer_norm),
/// <see cref="Pooled"/> [batch, hidden] (the last hidden state at <see cref="PooledPositions"/>), <see cref="TextEmbeds"/>
/// [batch, projection_dim] (text_projection of the pooled state; null without a projection) and the requested entries
/// of the hidden_states tuple [batch, seq, hidden], keyed by their index in it: 0 the embeddings, i the output of layer
/// i, none after final_layer_norm (so index layers − 1, Python's [-2], is what Stable Diffusion 3 reads).
/// </summary>
public sealed class ClipTextOutput : IDisposable
{
    public required int Batch { get; init; }
    public required int Seq { get; init; }
    public required DeviceTensor LastHiddenState { get; init; }
    public required DeviceTensor Pooled { get; init; }
    public required DeviceTensor? TextEmbeds { get; init; }
    public required int[] PooledPositions { get; init; }
    public required IReadOnlyDictionary<int, DeviceTensor> HiddenStates { get; init; }

    public void Dispose()
    {
        LastHiddenState.Dispose(); Pooled.Dispose(); TextEmbeds?.Dispose();
        foreach (var t in HiddenStates.Values) t.Dispose();
    }
}
