namespace Qzo.Models;

/// <summary>One layer of a decoder stack, as the model lists its tensors: its norm weights and its linears.</summary>
public interface IDecoderLayer : IDisposable
{
    IEnumerable<Parameter> Norms { get; }
    IEnumerable<ILinear> Linears { get; }
}
