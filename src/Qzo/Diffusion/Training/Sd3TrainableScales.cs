using Qzo.Diffusion.Sd3;
using Qzo.Models;
using Qzo.Quantization.Bnb;
using Qzo.Training;

namespace Qzo.Diffusion.Training;

/// <summary>
/// What QZO trains in an SD3 transformer: the block absmax of every bitsandbytes 4-bit linear, as fp32 masters (decoded
/// from the nested 8-bit form when double-quantized), numbered t = 0, 1, … in the order diffusers'
/// SD3Transformer2DModel.named_parameters() yields their weights (<see cref="Sd3Transformer.LinearsInModuleOrder"/>), the
/// order in which the official QZO code perturbs them. The forward perturbs them inside dequantization, as for language
/// models (docs/algorithm.md §2). Dense linears, norms, the patch convolution and the positional table stay frozen.
/// </summary>
public static class Sd3TrainableScales
{
    /// <summary>Numbers the absmax of the transformer's 4-bit linears; returns them in index order.</summary>
    public static IReadOnlyList<Parameter> Mark(Sd3Transformer transformer)
    {
        var linears = transformer.LinearsInModuleOrder.OfType<Bnb4BitLinear>().ToList();
        if (linears.Count == 0)
            throw new QzoException(
                $"{transformer.Source}: no bitsandbytes 4-bit linear to train; QZO trains the NF4 absmax of a transformer saved with " +
                "BitsAndBytesConfig(load_in_4bit=True)");
        for (int t = 0; t < linears.Count; t++) linears[t].Scales.TrainableIndex = t;
        return linears.Select(l => l.Scales).ToList();
    }

    public static ParameterTrainableSet Set(Sd3Transformer transformer, IReadOnlyList<Parameter> scales) =>
        new(transformer.Backend, scales);
}
