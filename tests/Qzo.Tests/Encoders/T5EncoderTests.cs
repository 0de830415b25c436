using Qzo.Compute;
using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.Encoders;
using Qzo.Encoders.T5;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Xunit.Abstractions;

namespace Qzo.Tests.Encoders;

/// <summary>
/// T5EncoderModel on synthesized folders: the relative position buckets against T5's formula written out in double, the
/// bias layout, the forward pass against <see cref="ReferenceT5"/> (naive loops in double), the embedding's two names,
/// sharded folders, and config errors.
/// </summary>
public class T5EncoderTests(ITestOutputHelper output)
{
    static T5EncoderConfig Tiny() => new()
    {
        VocabSize = 32128, DModel = 32, DKv = 8, DFf = 48, Heads = 4, Layers = 2, FeedForwardProj = "gated-gelu",
    };

    [Theory]
    [InlineData(32, 128)]
    [InlineData(32, 20)]
    [InlineData(16, 64)]
    [InlineData(64, 300)]
    public void BucketsMatchT5sFormulaForOffsetsUpTo300(int buckets, int maxDistance)
    {
        for (int r = -300; r <= 300; r++)
        {
            int formula = ReferenceT5.Bucket(r, buckets, maxDistance), ours = T5RelativePosition.Bucket(r, buckets, maxDistance);
            Assert.True(formula == ours, $"offset {r}: formula {formula}, ours {ours}");
        }
    }

    [Fact]
    public void BucketsOfT5V11ByHand()
    {
        // Keys before the query (r ≤ 0) take buckets 0–15, after it 16–31; |r| < 8 exact, then 8 + ⌊8·log(|r|/8)/log 16⌋
        // up to 15.
        int[] offsets = [0, -1, 1, -7, -8, 8, -15, -16, 16, -31, -32, 64, -127, -128, 300, -300];
        int[] expected = [0, 1, 17, 7, 8, 24, 9, 10, 26, 11, 12, 30, 15, 15, 31, 15];
        Assert.Equal(expected, offsets.Select(r => T5RelativePosition.Bucket(r, 32, 128)));
        Assert.Equal([0, 17, 18, 1, 0, 17, 2, 1, 0], T5RelativePosition.Buckets(3, 3, 32, 128));
    }

    [Fact]
    public void PositionBiasIsTheTableRowOfEachOffsetsBucketHeadMajor()
    {
        using var temp = new TempFolder();
        var c = Tiny();
        T5EncoderSynthesis.Write(temp.Path, c, new EncoderSynthOptions { Seed = 3 });
        using var backend = new CpuBackend();
        using var model = T5EncoderLoader.Load(temp.Path, backend);
        using var checkpoint = Checkpoint.OpenComponent(temp.Path);
        var table = checkpoint.Tensors.ReadFloat32("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
        const int seq = 150;
        var bias = model.PositionBias(seq);
        Assert.Equal(c.Heads * seq * seq, bias.Length);
        for (int h = 0; h < c.Heads; h++)
            for (int i = 0; i < seq; i++)
                for (int j = 0; j < seq; j++)
                    Assert.Equal(table[ReferenceT5.Bucket(j - i, 32, 128) * c.Heads + h], bias[(h * seq + i) * seq + j]);
    }

    [Fact]
    public void ForwardMatchesTheNaiveReferenceWithTheBiasOfBlock0InEveryBlock()
    {
        using var temp = new TempFolder();
        var c = Tiny();
        T5EncoderSynthesis.Write(temp.Path, c, new EncoderSynthOptions { Seed = 5 });
        using var backend = new CpuBackend();
        using var model = T5EncoderLoader.Load(temp.Path, backend);
        Assert.Empty(model.UnusedTensors);
        using var checkpoint = Checkpoint.OpenComponent(temp.Path);
        var reference = new ReferenceT5(checkpoint);
        const int seq = 150; // past max_distance 128, so the last buckets are used
        var ids = Prompts(seq);
        using var result = model.Forward(ids, 2, seq, blockOutputs: [0, 1]);
        var ours = HostFloats.Download(backend, result.LastHiddenState);
        Assert.Equal(2 * seq * c.DModel, ours.Length);
        int width = seq * c.DModel;
        for (int b = 0; b < 2; b++)
        {
            var (blocks, last) = reference.Run(ids.AsSpan(b * seq, seq).ToArray());
            for (int l = 0; l < c.Layers; l++)
                EncoderChecks.Close($"row {b} block.{l}", HostFloats.Download(backend, result.BlockOutputs[l]).AsSpan(b * width, width),
                                    EncoderChecks.Flat(blocks[l]), 1e-4, output);
            EncoderChecks.Close($"row {b} last_hidden_state", ours.AsSpan(b * width, width), EncoderChecks.Flat(last), 1e-4, output);
        }
        Assert.Throws<QzoException>(() => model.Forward(ids, 2, seq, blockOutputs: [c.Layers]).Dispose());
    }

    [Fact]
    public void ShardedFolderAndEitherEmbeddingNameGiveTheSameOutput()
    {
        using var temp = new TempFolder();
        var c = Tiny() with { Layers = 1 };
        var single = temp["single"];
        T5EncoderSynthesis.Write(single, c, new EncoderSynthOptions { Seed = 9 });
        var sharded = temp["sharded"];
        T5EncoderSynthesis.Write(sharded, c, new EncoderSynthOptions { Seed = 9, MaxShardBytes = 1 << 20 });
        Assert.True(File.Exists(Path.Combine(sharded, ShardedIndex.FileName)));
        Assert.True(Directory.GetFiles(sharded, "model-*-of-*.safetensors").Length >= 2);
        var ids = Prompts(40);
        var expected = Run(single, ids);
        Assert.Equal(expected, Run(sharded, ids));

        // Only encoder.embed_tokens.weight (as some converters write it), and both names plus a decoder (a whole T5).
        var renamed = temp["renamed"];
        Rewrite(single, renamed,
                tensors => tensors.Select(t => t.Name == "shared.weight" ? t with { Name = "encoder.embed_tokens.weight" } : t));
        Assert.Equal(expected, Run(renamed, ids));
        var both = temp["both"];
        Rewrite(single, both, tensors => tensors.Concat(tensors.Where(t => t.Name == "shared.weight").Select(t => t with
        {
            Name = "encoder.embed_tokens.weight",
            Data = DTypes.FromSingle(DType.F32, new float[c.VocabSize * c.DModel]),
        })).Append(new TensorToWrite("decoder.final_layer_norm.weight", DType.F32, [c.DModel], new byte[4 * c.DModel])));
        Assert.Equal(expected, Run(both, ids, expectUnused: false));

        float[] Run(string folder, int[] tokens, bool expectUnused = false)
        {
            using var backend = new CpuBackend();
            using var model = T5EncoderLoader.Load(folder, backend);
            Assert.Equal(expectUnused, model.UnusedTensors.Count > 0);
            using var result = model.Forward(tokens, 2, tokens.Length / 2);
            return HostFloats.Download(backend, result.LastHiddenState);
        }
    }

    [Fact]
    public void Nf4QuantizedLinearsLoadAndMatchTheReferenceOnTheirDequantizedWeights()
    {
        using var temp = new TempFolder();
        var c = Tiny();
        string dense = temp["dense"];
        T5EncoderSynthesis.Write(dense, c, new EncoderSynthOptions { Seed = 13 });
        string quantized = temp["nf4"];
        var linears = Enumerable.Range(0, c.Layers).SelectMany(i => new[]
        {
            "layer.0.SelfAttention.q", "layer.0.SelfAttention.k", "layer.0.SelfAttention.v", "layer.0.SelfAttention.o",
            "layer.1.DenseReluDense.wi_0", "layer.1.DenseReluDense.wi_1", "layer.1.DenseReluDense.wo",
        }.Select(n => $"encoder.block.{i}.{n}"));
        EncoderQuantization.Nf4(dense, quantized, linears, doubleQuant: false);
        using var backend = new CpuBackend();
        using var model = T5EncoderLoader.Load(quantized, backend);
        Assert.Empty(model.UnusedTensors);
        Assert.All(model.AllLinears, l => Assert.IsAssignableFrom<IQuantizedLinear>(l));
        using var checkpoint = Checkpoint.OpenComponent(quantized);
        var reference = new ReferenceT5(checkpoint); // dequantizes with the format's plain reference
        var ids = Prompts(20);
        using var result = model.Forward(ids, 2, 20);
        EncoderChecks.Close("NF4 last_hidden_state", HostFloats.Download(backend, result.LastHiddenState).AsSpan(0, 20 * c.DModel),
                            EncoderChecks.Flat(reference.LastHiddenState(ids.AsSpan(0, 20).ToArray())), 1e-4, output);
    }

    [Fact]
    public void ConfigReadsBackAndRefusesWhatItCannotRun()
    {
        using var temp = new TempFolder();
        var c = Tiny();
        T5EncoderSynthesis.Write(temp.Path, c, new EncoderSynthOptions { DType = DType.BF16 });
        string path = Path.Combine(temp.Path, "config.json");
        var read = T5EncoderConfig.Load(path);
        Assert.Equal(c, read);
        Assert.Equal(T5FeedForward.GatedGeluTanh, read.FeedForward); // "gated-gelu" is gelu_new, the tanh GELU

        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        string Refusal(Action<JsonObject> edit)
        {
            var copy = json.DeepClone().AsObject();
            edit(copy);
            string edited = temp["edited.json"];
            File.WriteAllText(edited, copy.ToJsonString());
            return Assert.Throws<QzoException>(() => T5EncoderConfig.Load(edited)).Message;
        }
        Assert.Contains("'feed_forward_proj' 'gated-relu'",
                        Refusal(o => { o["feed_forward_proj"] = "gated-relu"; o["dense_act_fn"] = "relu"; }));
        Assert.Contains("'dense_act_fn' 'gelu'", Refusal(o => o["dense_act_fn"] = "gelu"));
        Assert.Contains("required key 'd_kv'", Refusal(o => o.Remove("d_kv")));
        Assert.Contains("model_type 'umt5'", Refusal(o => o["model_type"] = "umt5"));
        Assert.Contains("edited.json", Refusal(o => o["num_heads"] = 0));
    }

    [Fact]
    public void StableDiffusion3PresetWritesTheHubsConfigValues()
    {
        var c = T5EncoderSynthesis.Config(T5EncoderConfig.StableDiffusion3Xxl, new EncoderSynthOptions());
        string[] keys = ["d_model", "num_layers", "num_heads", "d_kv", "d_ff", "vocab_size", "relative_attention_num_buckets",
                         "relative_attention_max_distance", "pad_token_id", "eos_token_id"];
        Assert.Equal([4096, 24, 64, 64, 10240, 32128, 32, 128, 0, 1], keys.Select(k => (int)c[k]!));
        Assert.Equal(("gated-gelu", "gelu_new", true),
                     ((string)c["feed_forward_proj"]!, (string)c["dense_act_fn"]!, (bool)c["is_gated_act"]!));
        Assert.Equal(1e-6, (double)c["layer_norm_epsilon"]!, 1e-13);
    }

    /// <summary>Two rows of T5-like ids: words, &lt;/s&gt; = 1, then padding 0 (which the pipeline attends).</summary>
    static int[] Prompts(int seq)
    {
        var ids = new int[2 * seq];
        int[] lengths = [7, seq / 2];
        for (int b = 0; b < 2; b++)
        {
            for (int t = 0; t < lengths[b]; t++) ids[b * seq + t] = 3 + (b * 7919 + t * 104729) % 32000;
            ids[b * seq + lengths[b]] = 1;
        }
        return ids;
    }

    static void Rewrite(string source, string target, Func<IReadOnlyList<TensorToWrite>, IEnumerable<TensorToWrite>> edit)
    {
        Directory.CreateDirectory(target);
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(target, "config.json"));
        using var file = SafetensorsFile.Open(Path.Combine(source, CheckpointTensors.SingleFileName));
        var tensors = file.Tensors.Select(t => new TensorToWrite(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray())).ToList();
        SafetensorsWriter.Write(Path.Combine(target, CheckpointTensors.SingleFileName), edit(tensors).ToList());
    }
}
