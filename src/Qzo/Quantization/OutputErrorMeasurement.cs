using System.Text.Json.Nodes;
using Qzo.Compute;
using Qzo.Models;
using Qzo.Text;

namespace Qzo.Quantization;

/// <summary>
/// One linear's relative output error ‖XWᵀ − XŴᵀ‖ / ‖XWᵀ‖ (Frobenius) on the calibration inputs X that reach it.
/// </summary>
public sealed record LinearOutputError(string Name, int Layer, int InFeatures, int OutFeatures, double RelativeError);

public sealed record OutputErrorReport(int Samples, int Length, long CalibrationTokens, IReadOnlyList<LinearOutputError> Linears)
{
    public double MeanRelativeError => Linears.Average(l => l.RelativeError);

    public JsonObject ToJson() => new()
    {
        ["calibration_samples"] = Samples,
        ["calibration_length"] = Length,
        ["calibration_file_tokens"] = CalibrationTokens,
        ["mean_relative_error"] = MeanRelativeError,
        ["linears"] = new JsonArray(Linears.Select(l => (JsonNode)new JsonObject
        {
            ["name"] = l.Name, ["layer"] = l.Layer, ["in_features"] = l.InFeatures, ["out_features"] = l.OutFeatures,
            ["relative_error"] = l.RelativeError,
        }).ToArray()),
    };
}

/// <summary>
/// How much of each layer's output a quantized checkpoint gets wrong, measured as GPTQ measures its own result: the
/// calibration windows (chosen as GPTQ chooses them) run through the unquantized checkpoint layer by layer with
/// <see cref="LayerwiseCalibration"/>, each linear's weight replaced by the quantized checkpoint's (as Qzo decodes it)
/// in true-sequential order, so every linear is judged on the inputs that reach it through the quantized parts before
/// it. For any format (GPTQ, AQLM, bitsandbytes); on a GPTQ checkpoint it repeats GPTQ's own report. The caller picks
/// the backends: <c>backend</c> runs the calibration, <c>decoder</c> decodes the quantized weights (a CPU backend decodes
/// them in fp32, as GPTQ's own report sees them).
/// </summary>
public static class OutputErrorMeasurement
{
    /// <summary>
    /// The calibration windows GPTQ would take from <paramref name="calibration"/> for <paramref name="reference"/> (to check the data
    /// before quantizing).
    /// </summary>
    public static CalibrationSet LoadCalibration(string reference, CalibrationOptions calibration)
    {
        using var source = Checkpoint.Open(reference);
        return CalibrationSet.Load(calibration.Path, Tokenizer.Load(reference), calibration.Samples, calibration.Length, calibration.Seed,
            source.Config.MaxPositions);
    }

    public static OutputErrorReport Measure(string reference, string quantized, CalibrationOptions calibration, IBackend backend,
                                            IBackend decoder,
                                            IProgress<GptqProgress>? progress = null, int rowsPerForward = 4096) =>
        Measure(reference, quantized, LoadCalibration(reference, calibration), backend, decoder, progress, rowsPerForward);

    public static OutputErrorReport Measure(string reference, string quantized, CalibrationSet set, IBackend backend, IBackend decoder,
                                            IProgress<GptqProgress>? progress = null, int rowsPerForward = 4096)
    {
        using var source = Checkpoint.Open(reference);
        if (source.IsQuantized) throw new QzoException($"{reference}: the reference checkpoint is itself quantized");
        using var target = Checkpoint.Open(quantized);
        using var model = ModelLoader.Load(target, decoder, TrainingScope.None);
        var linears = model.AllLinears.ToDictionary(l => l.Name, StringComparer.Ordinal);

        var errors = new List<LinearOutputError>();
        LayerwiseCalibration.Run(source, set, backend, rowsPerForward, trueSequential: true, linear =>
        {
            if (!linears.TryGetValue(linear.Name, out var counterpart))
                throw new QzoException($"{quantized}: has no linear '{linear.Name}'");
            if (counterpart.InFeatures != linear.InFeatures || counterpart.OutFeatures != linear.OutFeatures)
                throw new QzoException(
                    $"{quantized}: '{linear.Name}' is [{counterpart.OutFeatures}, {counterpart.InFeatures}], the reference's is " +
                    $"[{linear.OutFeatures}, {linear.InFeatures}]");
            var decoded = counterpart switch
            {
                IQuantizedLinear q => DequantizedWeights.Of(q, decoder),
                DenseLinear d => d.Weight.Download(decoder),
                _ => throw new QzoException($"{quantized}: '{linear.Name}' is neither quantized nor dense"),
            };
            errors.Add(new LinearOutputError(linear.Name, linear.Layer, linear.InFeatures, linear.OutFeatures,
                                             linear.Hessian.RelativeError(linear.Weight, decoded, linear.OutFeatures)));
            return decoded;
        }, progress: progress);
        return new OutputErrorReport(set.Samples, set.Length, set.TotalTokens, errors);
    }
}
