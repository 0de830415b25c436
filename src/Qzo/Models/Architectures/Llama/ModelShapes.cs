using Qzo.Models.Architectures.LlamaLayout;

namespace Qzo.Models.Architectures.Llama;

/// <summary>Named Llama-architecture shapes for benchmarks (the published configs' dimensions).</summary>
public static class ModelShapes
{
    public static IReadOnlyDictionary<string, LlamaConfig> All { get; } = new Dictionary<string, LlamaConfig>
    {
        ["tiny"] = Make(vocab: 512, hidden: 256, intermediate: 688, layers: 4, heads: 8, kvHeads: 8, theta: 10000),
        ["small"] = Make(vocab: 32000, hidden: 1024, intermediate: 2816, layers: 8, heads: 16, kvHeads: 16, theta: 10000),
        ["llama2-7b"] = Make(vocab: 32000, hidden: 4096, intermediate: 11008, layers: 32, heads: 32, kvHeads: 32, theta: 10000),
        ["llama2-13b"] = Make(vocab: 32000, hidden: 5120, intermediate: 13824, layers: 40, heads: 40, kvHeads: 40, theta: 10000),
        ["llama2-70b"] = Make(vocab: 32000, hidden: 8192, intermediate: 28672, layers: 80, heads: 64, kvHeads: 8, theta: 10000),
        ["llama3-8b"] = Make(vocab: 128256, hidden: 4096, intermediate: 14336, layers: 32, heads: 32, kvHeads: 8, theta: 500000),
    };

    public static LlamaConfig Get(string name) => All.TryGetValue(name, out var config) ? config
        : throw new QzoException($"--shape '{name}' is unknown (known: {string.Join(", ", All.Keys)})");

    static LlamaConfig Make(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, double theta) => new()
    {
        Architecture = ArchitectureRegistry.Llama,
        VocabSize = vocab, HiddenSize = hidden, IntermediateSize = intermediate, Layers = layers, Heads = heads, KvHeads = kvHeads,
        HeadDim = hidden / heads, RmsNormEps = 1e-5f, TieWordEmbeddings = false, Rope = new RopeConfig("default", theta),
        MaxPositions = 4096, BosTokenId = 1, EosTokenIds = [2], PadTokenId = 0,
    };

    /// <summary>
    /// Multiply-adds ×2 of one forward pass over <paramref name="tokens"/> tokens in sequences of
    /// <paramref name="seq"/>: the linears, causal attention (QKᵀ and PV over the visible half), and lm_head.
    /// </summary>
    public static double ForwardFlops(LlamaConfig c, long tokens, int seq)
    {
        long q = (long)c.Heads * c.HeadDim, kv = (long)c.KvHeads * c.HeadDim;
        long linear = c.HiddenSize * (2 * q + 2 * kv) + 3L * c.HiddenSize * c.IntermediateSize;
        double attention = 2.0 * 2 * c.Heads * c.HeadDim * (seq + 1) / 2.0; // per token: scores and weighted sum over ~seq/2 keys
        return tokens * (2.0 * linear * c.Layers + attention * c.Layers + 2.0 * c.HiddenSize * c.VocabSize);
    }
}
