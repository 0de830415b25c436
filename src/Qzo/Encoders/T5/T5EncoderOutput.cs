using Qzo.Compute;

namespace Qzo.Encoders.T5;

/// <summary>
/// What one T5 encoder pass returns, in the compute type: <see cref="LastHiddenState"/> [batch, seq, d_model] (after
/// final_layer_norm) and the requested blocks' outputs [batch, seq, d_model], keyed by block index.
/// </summary>
public sealed class T5EncoderOutput : IDisposable
{
    public required int Batch { get; init; }
    public required int Seq { get; init; }
    public required DeviceTensor LastHiddenState { get; init; }
    public required IReadOnlyDictionary<int, DeviceTensor> BlockOutputs { get; init; }

    public void Dispose()
    {
        LastHiddenState.Dispose();
        foreach (var t in BlockOutputs.Values) t.Dispose();
    }
}
