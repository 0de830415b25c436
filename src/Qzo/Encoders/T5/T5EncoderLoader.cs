using Qzo.Compute;
using Qzo.Models;
using static Qzo.Encoders.T5.T5EncoderTensors;

namespace Qzo.Encoders.T5;

/// <summary>
/// Loads a T5EncoderModel folder (text_encoder_3/ of a Stable Diffusion 3 pipeline: config.json and, for T5-XXL,
/// model-0000x-of-0000y.safetensors with model.safetensors.index.json) onto a backend, frozen. The embedding is read as
/// transformers ties it: shared.weight, else encoder.embed_tokens.weight; a whole T5's decoder is ignored.
/// </summary>
public static class T5EncoderLoader
{
    public static T5EncoderModel Load(string folder, IBackend backend)
    {
        using var checkpoint = Checkpoint.OpenComponent(folder);
        return Load(checkpoint, backend);
    }

    public static T5EncoderModel Load(Checkpoint checkpoint, IBackend backend)
    {
        var c = T5EncoderConfig.Parse(checkpoint.ConfigJson);
        var p = new ParameterLoader(checkpoint, backend, TrainingScope.None);
        var owned = new List<IDisposable>();
        T Own<T>(T item) where T : IDisposable { owned.Add(item); return item; }
        try
        {
            var tensors = checkpoint.Tensors;
            string embeddingName = tensors.Contains(Shared) || !tensors.Contains(EncoderEmbedTokens) ? Shared : EncoderEmbedTokens;
            var embedding = Own(p.Dense(embeddingName, [c.VocabSize, c.DModel]));
            if (embeddingName == Shared && tensors.Contains(EncoderEmbedTokens)) p.Ignore(EncoderEmbedTokens); // tied to shared
            foreach (var name in tensors.Names.Where(n => n.StartsWith(DecoderPrefix, StringComparison.Ordinal))) p.Ignore(name);

            string tableName = Block(0) + RelativeBias;
            p.CheckShape(p.Require(tableName), [c.RelativeBuckets, c.Heads]);
            float[] table = tensors.ReadFloat32(tableName);

            var layers = new List<T5EncoderLayer>();
            for (int i = 0; i < c.Layers; i++) layers.Add(Own(BuildLayer(p, c, i)));
            var finalNorm = Own(p.Dense(FinalNorm, [c.DModel]));
            return new T5EncoderModel(c, backend, embedding, table, layers, finalNorm, p.Unused());
        }
        catch
        {
            foreach (var item in owned) item.Dispose();
            throw;
        }
    }

    static T5EncoderLayer BuildLayer(ParameterLoader p, T5EncoderConfig c, int i)
    {
        int d = c.DModel, inner = c.InnerDim, ff = c.DFf;
        string prefix = Block(i);
        var owned = new List<IDisposable>();
        T Own<T>(T item) where T : IDisposable { owned.Add(item); return item; }
        try
        {
            return new T5EncoderLayer
            {
                AttentionNorm = Own(p.Dense(prefix + AttentionNorm, [d])),
                Q = Own(p.Linear(prefix + Q, d, inner, hasBias: false)),
                K = Own(p.Linear(prefix + K, d, inner, hasBias: false)),
                V = Own(p.Linear(prefix + V, d, inner, hasBias: false)),
                O = Own(p.Linear(prefix + O, inner, d, hasBias: false)),
                MlpNorm = Own(p.Dense(prefix + MlpNorm, [d])),
                Wi0 = Own(p.Linear(prefix + (c.IsGated ? Wi0 : Wi), d, ff, hasBias: false)),
                Wi1 = c.IsGated ? Own(p.Linear(prefix + Wi1, d, ff, hasBias: false)) : null,
                Wo = Own(p.Linear(prefix + Wo, ff, d, hasBias: false)),
            };
        }
        catch
        {
            foreach (var item in owned) item.Dispose();
            throw;
        }
    }
}
