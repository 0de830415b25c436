using Qzo.Compute;
using Qzo.Models;

namespace Qzo.Quantization;

/// <summary>One decoder-layer linear as <see cref="LayerwiseCalibration"/> reaches it.</summary>
/// <param name="Weight">the checkpoint's weight, row-major [out, in] float32</param>
/// <param name="Hessian">Σ xxᵀ of the calibration inputs that reach the linear through the parts already replaced, on the
/// backend</param>
public sealed record CalibratedLinear(string Name, int Layer, int InFeatures, int OutFeatures, float[] Weight, HessianAccumulator Hessian);

/// <summary>
/// The calibration windows' hidden states through an unquantized checkpoint's decoder layer 0, 1, ... in turn, as GPTQ
/// runs them: in each layer the linears are visited in true-sequential order ([q, k, v], [o], [gate, up], [down]; OPT
/// [q, k, v], [out_proj], [fc1], [fc2]; all four groups at once without true_sequential), each with H = Σ xxᵀ of the
/// inputs that reach it through the linears already replaced (one Hessian per shared input), and the caller's
/// replacement weight takes the linear's place; the states then pass through the replaced layer to the next. Only one
/// layer's weights, its Hessians and the calibration states are in memory, all on the backend (on a GPU, the states in
/// bf16: 2 GiB for 128 windows of 2048 tokens at Llama-2-7B's width), so nothing crosses to the host between passes.
/// </summary>
public static class LayerwiseCalibration
{
    /// <param name="replace">the weight [out, in] that takes the linear's place (e.g. its quantized values)</param>
    /// <param name="layerDone">called after each layer, with its index, once the states have moved through it</param>
    public static void Run(Checkpoint source, CalibrationSet set, IBackend backend, int rowsPerForward, bool trueSequential,
                           Func<CalibratedLinear, float[]> replace, Action<int>? layerDone = null, IProgress<GptqProgress>? progress = null)
    {
        int seq = set.Length;
        int sequencesPerForward = Math.Max(1, rowsPerForward / seq);
        using var decoder = LayerwiseDecoder.Open(source, backend, sequencesPerForward * seq, seq);
        // The calibration hidden states on the backend, in its compute type (the precision a layer reads them in, so
        // keeping them there changes no value), one tensor per forward's worth of windows.
        var hidden = new List<(DeviceTensor States, int Count)>();
        try
        {
            for (int s0 = 0; s0 < set.Samples; s0 += sequencesPerForward)
            {
                int count = Math.Min(sequencesPerForward, set.Samples - s0);
                hidden.Add((decoder.Embed(set.Windows.Skip(s0).Take(count).ToList()), count));
            }
            RunLayers(decoder, hidden, seq, backend, trueSequential, replace, layerDone, progress, source);
        }
        finally { foreach (var (states, _) in hidden) states.Dispose(); }
    }

    static void RunLayers(LayerwiseDecoder decoder, List<(DeviceTensor States, int Count)> hidden, int seq, IBackend backend,
                          bool trueSequential, Func<CalibratedLinear, float[]> replace, Action<int>? layerDone,
                          IProgress<GptqProgress>? progress, Checkpoint source)
    {
        // Runs every calibration window through the layer: for the observers (the hidden states stay), or to move them on.
        void RunAll(LayerwiseDecoder.DecoderLayer layer, IReadOnlyDictionary<string, LinearInputObserver>? observers)
        {
            foreach (var (states, count) in hidden)
                if (observers is not null) layer.Observe(states, count, seq, observers);
                else layer.Forward(states, count, seq);
        }

        for (int l = 0; l < decoder.LayerCount; l++)
        {
            using var layer = decoder.OpenLayer(l);
            var passes = trueSequential
                ? layer.SequentialGroups.Select(g => (IReadOnlyList<IReadOnlyList<DenseLinear>>)[g]).ToList()
                : [layer.SequentialGroups];
            for (int p = 0; p < passes.Count; p++)
            {
                string what = string.Join(", ", passes[p].SelectMany(g => g).Select(x => ShortName(x.Name)));
                progress?.Report(new((l + (double)p / (passes.Count + 1)) / decoder.LayerCount,
                    $"layer {l + 1}/{decoder.LayerCount}: {what}"));
                // Each group's inputs are the same tensor for every linear in it: one Hessian per group, collected at its first linear.
                var hessians = passes[p].ToDictionary(g => g[0].Name, g => new HessianAccumulator(backend, g[0].InFeatures),
                    StringComparer.Ordinal);
                try
                {
                    var observers = hessians.ToDictionary(kv => kv.Key, kv => (LinearInputObserver)((x, rows) => kv.Value.Add(x, rows)),
                        StringComparer.Ordinal);
                    RunAll(layer, observers);
                    foreach (var group in passes[p])
                    {
                        var hessian = hessians[group[0].Name];
                        foreach (var linear in group)
                        {
                            // The checkpoint's values, not the backend's copy (bf16 on a GPU).
                            var weight = source.Tensors.ReadFloat32(linear.Name + ".weight");
                            layer.SetWeight(linear, replace(new CalibratedLinear(linear.Name, l, linear.InFeatures, linear.OutFeatures,
                                weight, hessian)));
                        }
                    }
                }
                finally { foreach (var hessian in hessians.Values) hessian.Dispose(); }
            }
            progress?.Report(new((l + (double)passes.Count / (passes.Count + 1)) / decoder.LayerCount,
                $"layer {l + 1}/{decoder.LayerCount}: output"));
            RunAll(layer, null); // the next layer's inputs come through the replaced layer
            layerDone?.Invoke(l);
        }
    }

    static string ShortName(string linear) => System.Text.RegularExpressions.Regex.Replace(linear, @"^model\.(?:decoder\.)?layers\.\d+\.",
        "");
}
