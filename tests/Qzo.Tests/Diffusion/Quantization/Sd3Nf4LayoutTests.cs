using System.Text;
using System.Text.Json.Nodes;
using Qzo.Diffusion.Pipelines;
using Qzo.IO;
using Qzo.Numerics;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Diffusion.Quantization;

/// <summary>
/// `qzo quantize --method nf4` on a whole SD3 pipeline: which linears each component quantizes (what diffusers'
/// and transformers' replace_with_bnb_linear convert), the tensors bitsandbytes' Linear4bit saves for each, the
/// config.json both libraries write, and everything else copied byte for byte.
/// </summary>
public sealed class Sd3Nf4LayoutTests(QuantizedTinySd3 sd3) : IClassFixture<QuantizedTinySd3>
{
    /// <summary>bitsandbytes' NF4 table (functional.get_4bit_type), as docs/formats.md §6 lists it.</summary>
    static readonly float[] Nf4 =
    [
        -1f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f, -0.18477343022823334f,
        -0.09105003625154495f, 0f, 0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1f,
    ];

    const string QuantStateInfix = ".weight.quant_state.bitsandbytes__nf4";

    static SortedSet<string> QuantizedModules(CheckpointTensors tensors) =>
        new(tensors.Names.Where(n => n.EndsWith(QuantStateInfix, StringComparison.Ordinal)).Select(n => n[..^QuantStateInfix.Length]),
            StringComparer.Ordinal);

    [Fact]
    public void TheTransformerQuantizesEveryLinearAndNothingElse()
    {
        string[] top =
        [
            "context_embedder", "norm_out.linear", "proj_out", "time_text_embed.text_embedder.linear_1",
            "time_text_embed.text_embedder.linear_2", "time_text_embed.timestep_embedder.linear_1",
            "time_text_embed.timestep_embedder.linear_2",
        ];
        string[] everyBlock =
        [
            "attn.add_k_proj", "attn.add_q_proj", "attn.add_v_proj", "attn.to_k", "attn.to_out.0", "attn.to_q", "attn.to_v",
            "ff.net.0.proj", "ff.net.2", "norm1.linear", "norm1_context.linear",
        ];
        string[] contextOutput = ["attn.to_add_out", "ff_context.net.0.proj", "ff_context.net.2"]; // not in the last block
        string[] secondAttention = ["attn2.to_k", "attn2.to_out.0", "attn2.to_q", "attn2.to_v"]; // dual_attention_layers [0]
        var expected = top.Concat(Enumerable.Range(0, 3).SelectMany(i =>
            everyBlock.Concat(i < 2 ? contextOutput : []).Concat(i == 0 ? secondAttention : [])
                      .Select(n => $"transformer_blocks.{i}.{n}")));

        using var dense = CheckpointTensors.Open(Path.Combine(sd3.Dense, "transformer"));
        using var quantized = CheckpointTensors.Open(Path.Combine(sd3.Quantized, "transformer"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), QuantizedModules(quantized));
        Assert.Equal(50, sd3.Reports.Single(r => r.Name == "transformer").QuantizedLinears);

        // Everything else (the patch convolution, the positional table, q/k RMSNorms, every bias) is copied as it was.
        var kept = dense.Names.Where(n => !expected.Contains(n[..n.LastIndexOf('.')]) || !n.EndsWith(".weight", StringComparison.Ordinal))
                        .ToList();
        Assert.Contains("pos_embed.proj.weight", kept);
        Assert.Contains("pos_embed.pos_embed", kept);
        Assert.Contains("transformer_blocks.0.attn.norm_added_q.weight", kept);
        Assert.Contains("proj_out.bias", kept);
        foreach (var name in kept) AssertCopied(dense, quantized, name);
        var parts = QuantizedModules(quantized).SelectMany(m => LinearTensorNames(m, doubleQuant: true));
        Assert.Equal(kept.Concat(parts).Order(StringComparer.Ordinal), quantized.Names);
    }

    static IEnumerable<string> LinearTensorNames(string module, bool doubleQuant) =>
        new[] { ".weight", ".weight.absmax", ".weight.quant_map", QuantStateInfix }
            .Concat(doubleQuant ? [".weight.nested_absmax", ".weight.nested_quant_map"] : []).Select(s => module + s);

    static void AssertCopied(CheckpointTensors dense, CheckpointTensors quantized, string name)
    {
        var (a, b) = (dense.Get(name), quantized.Get(name));
        Assert.Equal((a.DType, string.Join(",", a.Shape)), (b.DType, string.Join(",", b.Shape)));
        Assert.True(dense.FileOf(name).GetBytes(name).SequenceEqual(quantized.FileOf(name).GetBytes(name)), $"{name} changed");
    }

    [Fact]
    public void ALinearIsStoredAsBitsandbytesLinear4bitSavesIt()
    {
        const string p = "transformer_blocks.0.ff.net.0.proj"; // [256, 64]: 16,384 weights, 256 blocks of 64, one nested block
        using var dense = CheckpointTensors.Open(Path.Combine(sd3.Dense, "transformer"));
        using var quantized = CheckpointTensors.Open(Path.Combine(sd3.Quantized, "transformer"));
        var state = quantized.FileOf(p + QuantStateInfix).GetBytes(p + QuantStateInfix).ToArray();
        (string, DType, long[])[] expected =
        [
            (p + ".bias", DType.BF16, [256]),
            (p + ".weight", DType.U8, [8192, 1]),
            (p + ".weight.absmax", DType.U8, [256]),
            (p + ".weight.nested_absmax", DType.F32, [1]),
            (p + ".weight.nested_quant_map", DType.F32, [256]),
            (p + ".weight.quant_map", DType.F32, [16]),
            (p + QuantStateInfix, DType.U8, [state.Length]),
        ];
        var actual = quantized.Names.Where(n => n.StartsWith(p + ".", StringComparison.Ordinal)).Select(quantized.Get).ToList();
        Assert.Equal(expected.Select(e => e.Item1), actual.Select(t => t.Name));
        Assert.Equal(expected.Select(e => (e.Item2, string.Join(",", e.Item3))), actual.Select(t => (t.DType, string.Join(",", t.Shape))));

        // The quant_state: json.dumps of QuantState.as_dict(packed=True)'s non-tensor items, in its key order.
        var weight = dense.ReadFloat32(p + ".weight");
        var absmax = Enumerable.Range(0, 256).Select(b => weight.Skip(64 * b).Take(64).Max(MathF.Abs)).ToArray();
        float offset = (float)absmax.Average(a => (double)a);
        string json = Encoding.UTF8.GetString(state);
        const string head = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [256, 64], " +
                            "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": ";
        Assert.StartsWith(head, json);
        Assert.EndsWith("}", json);
        Assert.Equal(offset, float.Parse(json[head.Length..^1], System.Globalization.CultureInfo.InvariantCulture));

        // Double quantization: absmax − offset in 8 bits, scaled per 256 blocks by nested_absmax.
        var codes = quantized.FileOf(p + ".weight.absmax").GetBytes(p + ".weight.absmax").ToArray();
        var nestedAbsmax = quantized.ReadFloat32(p + ".weight.nested_absmax");
        var nestedMap = quantized.ReadFloat32(p + ".weight.nested_quant_map");
        Assert.Equal(absmax.Max(a => MathF.Abs(a - offset)), nestedAbsmax[0]);
        for (int b = 0; b < 256; b++)
            Assert.True(Math.Abs(nestedMap[codes[b]] * nestedAbsmax[0] + offset - absmax[b]) <= 0.01 * absmax.Max(), $"absmax block {b}");
        Assert.Equal(Nf4, quantized.ReadFloat32(p + ".weight.quant_map"));

        // Codes: the NF4 value nearest w / absmax, two per byte, the first in the high nibble.
        var packed = quantized.FileOf(p + ".weight").GetBytes(p + ".weight").ToArray();
        for (int k = 0; k < weight.Length; k++)
        {
            int code = k % 2 == 0 ? packed[k / 2] >> 4 : packed[k / 2] & 0xF;
            double scaled = weight[k] / (double)absmax[k / 64];
            double best = Nf4.Min(v => Math.Abs(v - scaled));
            Assert.True(Math.Abs(Nf4[code] - scaled) <= best + 1e-6, $"weight {k}: code {code} for {scaled}");
        }
    }

    [Theory]
    [InlineData("transformer")]
    [InlineData("text_encoder")]
    [InlineData("text_encoder_2")]
    [InlineData("text_encoder_3")]
    [InlineData("vae")]
    public void EveryLinearHasTheBytesTheLanguageModelPathWrites(string component)
    {
        using var dense = CheckpointTensors.Open(Path.Combine(sd3.Dense, component));
        using var quantized = CheckpointTensors.Open(Path.Combine(sd3.Quantized, component));
        var modules = QuantizedModules(quantized);
        Assert.NotEmpty(modules);
        foreach (var module in modules)
        {
            var info = dense.Get(module + ".weight");
            var reference = Bnb4BitLinearTensors.Quantize(dense.ReadFloat32(info.Name), info.Shape[0], info.Shape[1], FourBitType.Nf4, 64,
                                                          doubleQuant: true, "bfloat16").ToTensors(module).ToList();
            Assert.Equal(reference.Select(t => t.Name).Order(StringComparer.Ordinal),
                         LinearTensorNames(module, true).Order(StringComparer.Ordinal));
            foreach (var t in reference)
            {
                var stored = quantized.Get(t.Name);
                Assert.Equal((t.DType, string.Join(",", t.Shape)), (stored.DType, string.Join(",", stored.Shape)));
                Assert.True(t.Data.Span.SequenceEqual(quantized.FileOf(t.Name).GetBytes(t.Name)), $"{component}: {t.Name} differs");
            }
        }
    }

    [Fact]
    public void TextEncodersAndTheVaeKeepWhatTransformersAndDiffusersKeep()
    {
        // CLIPTextModelWithProjection: text_projection (its last parameter) stays an nn.Linear, as do the embeddings.
        foreach (var clip in new[] { "text_encoder", "text_encoder_2" })
        {
            using var quantized = CheckpointTensors.Open(Path.Combine(sd3.Quantized, clip));
            using var dense = CheckpointTensors.Open(Path.Combine(sd3.Dense, clip));
            var expected = Enumerable.Range(0, 2).SelectMany(i => new[]
                { "mlp.fc1", "mlp.fc2", "self_attn.k_proj", "self_attn.out_proj", "self_attn.q_proj", "self_attn.v_proj" }
                .Select(n => $"text_model.encoder.layers.{i}.{n}"));
            Assert.Equal(expected.Order(StringComparer.Ordinal), QuantizedModules(quantized));
            foreach (var name in new[] { "text_projection.weight", "text_model.embeddings.token_embedding.weight",
                                         "text_model.embeddings.position_embedding.weight", "text_model.final_layer_norm.weight" })
                AssertCopied(dense, quantized, name);
        }
        // T5EncoderModel: _keep_in_fp32_modules ["wo"] keeps each block's output projection; the embeddings and the relative
        // position bias are nn.Embedding.
        using (var quantized = CheckpointTensors.Open(Path.Combine(sd3.Quantized, "text_encoder_3")))
        using (var dense = CheckpointTensors.Open(Path.Combine(sd3.Dense, "text_encoder_3")))
        {
            var expected = Enumerable.Range(0, 2).SelectMany(i => new[]
                { "layer.0.SelfAttention.k", "layer.0.SelfAttention.o", "layer.0.SelfAttention.q", "layer.0.SelfAttention.v",
                  "layer.1.DenseReluDense.wi_0", "layer.1.DenseReluDense.wi_1" }.Select(n => $"encoder.block.{i}.{n}"));
            Assert.Equal(expected.Order(StringComparer.Ordinal), QuantizedModules(quantized));
            foreach (var name in new[] { "encoder.block.0.layer.1.DenseReluDense.wo.weight",
                                         "encoder.block.1.layer.1.DenseReluDense.wo.weight",
                                         "shared.weight", "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight" })
                AssertCopied(dense, quantized, name);
            Assert.Equal(2, sd3.Reports.Single(r => r.Name == "text_encoder_3").KeptLinears);
        }
        // AutoencoderKL: only the mid-block attentions' linears; every convolution stays.
        using (var quantized = CheckpointTensors.Open(Path.Combine(sd3.Quantized, "vae")))
        using (var dense = CheckpointTensors.Open(Path.Combine(sd3.Dense, "vae")))
        {
            var expected = new[] { "decoder", "encoder" }.SelectMany(part => new[] { "to_k", "to_out.0", "to_q", "to_v" }
                .Select(n => $"{part}.mid_block.attentions.0.{n}"));
            Assert.Equal(expected, QuantizedModules(quantized));
            Assert.All(dense.Names.Where(n => n.Contains("conv", StringComparison.Ordinal)), n => AssertCopied(dense, quantized, n));
        }
    }

    [Theory]
    [InlineData("transformer", "bfloat16")]
    [InlineData("text_encoder_3", "bfloat16")]
    public void ConfigGainsQuantizationConfigAsBitsAndBytesConfigToDictWritesIt(string component, string computeDType)
    {
        string text = File.ReadAllText(Path.Combine(sd3.Quantized, component, "config.json"));
        string block = $$"""
              "quantization_config": {
                "_load_in_4bit": true,
                "_load_in_8bit": false,
                "bnb_4bit_compute_dtype": "{{computeDType}}",
                "bnb_4bit_quant_storage": "uint8",
                "bnb_4bit_quant_type": "nf4",
                "bnb_4bit_use_double_quant": true,
                "llm_int8_enable_fp32_cpu_offload": false,
                "llm_int8_has_fp16_weight": false,
                "llm_int8_skip_modules": null,
                "llm_int8_threshold": 6.0,
                "load_in_4bit": true,
                "load_in_8bit": false,
                "quant_method": "bitsandbytes"
              }
            """;
        Assert.Contains(block.Replace("\r", ""), text);
        Assert.EndsWith("}\n", text);

        // The rest is the source config, every key sorted (json.dumps(indent=2, sort_keys=True)).
        var written = JsonNode.Parse(text)!.AsObject();
        var source = JsonNode.Parse(File.ReadAllText(Path.Combine(sd3.Dense, component, "config.json")))!.AsObject();
        Assert.Equal(source.Select(p => p.Key).Append("quantization_config").Order(StringComparer.Ordinal), written.Select(p => p.Key));
        written.Remove("quantization_config");
        Assert.True(JsonNode.DeepEquals(source, written));
        using var checkpoint = Qzo.Models.Checkpoint.OpenComponent(Path.Combine(sd3.Quantized, component));
        Assert.Equal(new BitsAndBytesConfig(FourBitType.Nf4, true, computeDType, null) with { Source = null },
                     (BitsAndBytesConfig)checkpoint.Quantization! with { Source = null });
    }

    [Fact]
    public void EverythingButTheQuantizedWeightsAndConfigsIsCopiedByteForByte()
    {
        var quantizedFiles = new[] { "transformer", "text_encoder", "text_encoder_2", "text_encoder_3", "vae" }
            .SelectMany(c => new[] { Path.Combine(c, "config.json"), Path.Combine(c, c.StartsWith("text", StringComparison.Ordinal)
                ? CheckpointTensors.SingleFileName : CheckpointTensors.DiffusersFileName) }).ToHashSet();
        var source = Directory.GetFiles(sd3.Dense, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(sd3.Dense, f))
                              .Order(StringComparer.Ordinal).ToList();
        var written = Directory.GetFiles(sd3.Quantized, "*", SearchOption.AllDirectories)
                               .Select(f => Path.GetRelativePath(sd3.Quantized, f))
                               .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(source, written);
        Assert.Contains(Sd3PipelineFolder.IndexFileName, source);
        Assert.Contains(Path.Combine("tokenizer_3", "tokenizer.json"), source);
        foreach (var file in source.Where(f => !quantizedFiles.Contains(f)))
        {
            var before = File.ReadAllBytes(Path.Combine(sd3.Dense, file));
            Assert.True(before.SequenceEqual(File.ReadAllBytes(Path.Combine(sd3.Quantized, file))), $"{file} changed");
        }
        Assert.All(sd3.Reports, r => Assert.True(r.BytesAfter < r.BytesBefore, $"{r.Name}: {r.BytesBefore} -> {r.BytesAfter}"));
    }
}
