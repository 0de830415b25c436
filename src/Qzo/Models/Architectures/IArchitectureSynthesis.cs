using System.Text.Json.Nodes;

namespace Qzo.Models.Architectures;

/// <summary>A family's part of `qzo synth`: the options it accepts, its config.json and its tensors.</summary>
interface IArchitectureSynthesis
{
    /// <summary>num_key_value_heads the options give.</summary>
    int KvHeads(SynthOptions o);

    /// <summary>head_dim the options give.</summary>
    int HeadDim(SynthOptions o);

    /// <summary>intermediate_size when the options give none, in double so that no hidden size overflows it.</summary>
    double DefaultIntermediate(double hidden);

    /// <summary>Refuses, in one line naming the option, what this family cannot be synthesized with.</summary>
    void Validate(SynthOptions o);

    /// <summary>config.json as transformers saves it, keys sorted.</summary>
    JsonObject Config(SynthOptions o);

    /// <summary>Every tensor, in the order their random streams are numbered.</summary>
    IEnumerable<SynthTensor> Tensors(SynthOptions o);

    /// <summary>The tensors' sizes, grouped (see <see cref="SynthFootprint"/>), computed in double.</summary>
    IEnumerable<SynthTensorGroup> Footprint(SynthOptions o);
}

/// <summary>A tensor `qzo synth` writes: its name, shape, and values from the tensor's index (its random stream).</summary>
sealed record SynthTensor(string Name, long[] Shape, Func<int, float[]> Init);

/// <summary><paramref name="Count"/> tensors of [<paramref name="Rows"/>, <paramref name="Columns"/>], named for one of them.</summary>
sealed record SynthTensorGroup(string Name, double Rows, double Columns, double Count);
