using Qzo.Compute;
using Qzo.Models;
using static Qzo.Encoders.Clip.ClipTextTensors;

namespace Qzo.Encoders.Clip;

/// <summary>
/// Loads a CLIPTextModel(WithProjection) folder (text_encoder/ or text_encoder_2/ of a Stable Diffusion 3 pipeline:
/// config.json and model.safetensors, or sharded) onto a backend, frozen. Linears stored as bitsandbytes NF4/FP4 or GPTQ
/// load as quantized linears through the same code.
/// </summary>
public static class ClipTextLoader
{
    public static ClipTextModel Load(string folder, IBackend backend)
    {
        using var checkpoint = Checkpoint.OpenComponent(folder);
        return Load(checkpoint, backend);
    }

    public static ClipTextModel Load(Checkpoint checkpoint, IBackend backend)
    {
        var c = ClipTextConfig.Parse(checkpoint.ConfigJson);
        var p = new ParameterLoader(checkpoint, backend, TrainingScope.None);
        var owned = new List<IDisposable>();
        T Own<T>(T item) where T : IDisposable { owned.Add(item); return item; }
        try
        {
            int h = c.HiddenSize;
            var tokens = Own(p.Dense(TokenEmbedding, [c.VocabSize, h]));
            var positions = Own(p.Dense(PositionEmbedding, [c.MaxPositions, h]));
            if (checkpoint.Tensors.Contains(PositionIds)) p.Ignore(PositionIds);
            var layers = new List<ClipTextLayer>();
            for (int i = 0; i < c.Layers; i++) layers.Add(Own(BuildLayer(p, c, i)));
            var finalNorm = Own(Norm(p, c, FinalNorm));
            var projection = c.HasProjection ? Own(p.Linear(Projection, h, c.ProjectionDim, hasBias: false)) : null;
            return new ClipTextModel(c, backend, tokens, positions, layers, finalNorm, projection, p.Unused());
        }
        catch
        {
            foreach (var item in owned) item.Dispose();
            throw;
        }
    }

    static ClipTextLayer BuildLayer(ParameterLoader p, ClipTextConfig c, int i)
    {
        int h = c.HiddenSize, f = c.IntermediateSize;
        string prefix = Layer(i);
        var owned = new List<IDisposable>();
        T Own<T>(T item) where T : IDisposable { owned.Add(item); return item; }
        try
        {
            return new ClipTextLayer
            {
                AttentionNorm = Own(Norm(p, c, prefix + AttentionNorm)),
                Q = Own(p.Linear(prefix + Q, h, h, hasBias: true)),
                K = Own(p.Linear(prefix + K, h, h, hasBias: true)),
                V = Own(p.Linear(prefix + V, h, h, hasBias: true)),
                Out = Own(p.Linear(prefix + Out, h, h, hasBias: true)),
                MlpNorm = Own(Norm(p, c, prefix + MlpNorm)),
                Fc1 = Own(p.Linear(prefix + Fc1, h, f, hasBias: true)),
                Fc2 = Own(p.Linear(prefix + Fc2, f, h, hasBias: true)),
            };
        }
        catch
        {
            foreach (var item in owned) item.Dispose();
            throw;
        }
    }

    static LayerNormParameters Norm(ParameterLoader p, ClipTextConfig c, string prefix)
    {
        var weight = p.Dense(prefix + ".weight", [c.HiddenSize]);
        try { return new LayerNormParameters(weight, p.Dense(prefix + ".bias", [c.HiddenSize])); }
        catch { weight.Dispose(); throw; }
    }
}
