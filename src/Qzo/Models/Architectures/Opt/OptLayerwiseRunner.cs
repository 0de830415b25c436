namespace Qzo.Models.Architectures.Opt;

/// <summary>
/// An OPT checkpoint one layer at a time: word embeddings (through project_in) plus learned positions, then
/// <see cref="OptModel.RunLayer"/>.
/// </summary>
sealed class OptLayerwiseRunner(LayerwiseDecoder decoder, OptConfig config) : ILayerwiseRunner
{
    const string Decoder = "model.decoder.";

    public void Embed(int[] ids, int seq, float[] hidden)
    {
        var c = config;
        int rows = ids.Length, h = c.HiddenSize;
        var words = new float[(long)rows * c.WordEmbedProjDim];
        decoder.GatherRows(Decoder + "embed_tokens.weight", ids, c.WordEmbedProjDim, words);
        if (c.ProjectsWords)
        {
            using var projectIn = (DenseLinear)decoder.Loader.Linear(Decoder + "project_in", c.WordEmbedProjDim, h, hasBias: false);
            var a = decoder.Activations;
            for (int r0 = 0; r0 < rows; r0 += decoder.MaxRows)
            {
                int count = Math.Min(decoder.MaxRows, rows - r0);
                var words0 = a.Words!;
                decoder.Upload(words0, words.AsSpan(r0 * c.WordEmbedProjDim, count * c.WordEmbedProjDim));
                projectIn.Forward(decoder.Context, words0, count, a.X);
                decoder.Download(a.X, hidden.AsSpan(r0 * h, count * h));
            }
        }
        else words.CopyTo(hidden, 0);
        var positions = new int[rows];
        for (int r = 0; r < rows; r++) positions[r] = r % seq + OptConfig.PositionOffset; // no padding: token t reads row t + 2
        var table = new float[(long)rows * h];
        decoder.GatherRows(Decoder + "embed_positions.weight", positions, h, table);
        for (long i = 0; i < hidden.LongLength; i++) hidden[i] += table[i];
    }

    public LayerwiseLayer OpenLayer(int index, Func<ILinear, ILinear> watch)
    {
        var c = config;
        var layer = OptLoader.BuildLayer(decoder.Loader, c, index);
        var watched = new OptLayer
        {
            AttentionNorm = layer.AttentionNorm, MlpNorm = layer.MlpNorm,
            Q = watch(layer.Q), K = watch(layer.K), V = watch(layer.V), Out = watch(layer.Out),
            Fc1 = watch(layer.Fc1), Fc2 = watch(layer.Fc2),
        };
        var a = decoder.Activations;
        var context = decoder.Context;
        return new LayerwiseLayer(layer, [[layer.Q, layer.K, layer.V], [layer.Out], [layer.Fc1], [layer.Fc2]],
            (batch, seq) => OptModel.RunLayer(c, watched, batch * seq, a, context,
                () => context.Backend.CausalAttention(a.Q, a.K, a.V, a.Mask, a.Attention, batch, seq, c.Heads, c.Heads, c.HeadDim,
                                                      slidingWindow: 0)));
    }

    public void Dispose() { }
}
