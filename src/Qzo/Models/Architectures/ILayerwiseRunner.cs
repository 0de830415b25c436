namespace Qzo.Models.Architectures;

/// <summary>A family's side of a <see cref="LayerwiseDecoder"/>: its embedding and its decoder layers, run one at a time.</summary>
interface ILayerwiseRunner : IDisposable
{
    /// <summary>
    /// Fills <paramref name="hidden"/> [ids, hidden] with the states before layer 0 of unpadded sequences of
    /// <paramref name="seq"/> tokens.
    /// </summary>
    void Embed(int[] ids, int seq, float[] hidden);

    /// <summary>Loads decoder layer <paramref name="index"/>, its linears seen through <paramref name="watch"/> when it runs.</summary>
    LayerwiseLayer OpenLayer(int index, Func<ILinear, ILinear> watch);
}

/// <summary>
/// A loaded decoder layer: <paramref name="Owner"/> frees its tensors; <paramref name="SequentialGroups"/> are its linears in
/// the order GPTQ's true_sequential quantizes them, grouped by the input they share; <paramref name="Run"/>(batch, seq) runs it
/// over the activations' hidden states in place.
/// </summary>
sealed record LayerwiseLayer(IDisposable Owner, IReadOnlyList<IReadOnlyList<ILinear>> SequentialGroups, Action<int, int> Run);
