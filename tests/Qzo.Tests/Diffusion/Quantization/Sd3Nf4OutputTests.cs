using System.Text.Json.Nodes;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.Encoders.Clip;
using Qzo.Encoders.T5;
using Qzo.IO;
using Qzo.Models;
using Qzo.Numerics;
using Qzo.Quantization.Bnb;
using Qzo.Tests.Diffusion.Vae;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Quantization;

/// <summary>
/// The quantized components load with Qzo's own loaders, every quantized linear as a 4-bit one, and compute what the
/// dense component computes with its weights replaced by their NF4 decoding (so the loaders read exactly what was
/// written), which is NF4's error away from the dense component's output.
/// </summary>
public sealed class Sd3Nf4OutputTests(QuantizedTinySd3 sd3, ITestOutputHelper output) : IClassFixture<QuantizedTinySd3>
{
    /// <summary>‖a − b‖ / ‖b‖.</summary>
    static double Relative(float[] a, float[] b)
    {
        Assert.Equal(b.Length, a.Length);
        double error = 0, norm = 0;
        for (int i = 0; i < a.Length; i++) { error += Math.Pow(a[i] - (double)b[i], 2); norm += (double)b[i] * b[i]; }
        Assert.True(norm > 0, "the dense output is all zeros");
        return Math.Sqrt(error / norm);
    }

    /// <summary>
    /// A dense copy of <paramref name="component"/> whose quantized linears hold their NF4 decoding as F32 (code · decoded absmax,
    /// the plain definition), every other tensor as the quantized folder stores it.
    /// </summary>
    string Decoded(string component)
    {
        string target = sd3.Scratch($"decoded-{component}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(target);
        string quantizedFolder = Path.Combine(sd3.Quantized, component);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(quantizedFolder, "config.json")))!.AsObject();
        config.Remove("quantization_config");
        File.WriteAllText(Path.Combine(target, "config.json"), config.ToJsonString());
        using var tensors = CheckpointTensors.Open(quantizedFolder);
        const string infix = Bnb4BitQuantState.TensorInfix;
        var modules = tensors.Names.Where(n => n.Contains(infix, StringComparison.Ordinal)).Select(n => n[..n.IndexOf(infix)]).ToHashSet();
        var written = new List<TensorToWrite>();
        foreach (var name in tensors.Names)
        {
            int weight = name.IndexOf(".weight", StringComparison.Ordinal);
            string module = weight >= 0 ? name[..weight] : "";
            if (!modules.Contains(module))
            {
                var t = tensors.Get(name);
                written.Add(new TensorToWrite(name, t.DType, t.Shape, tensors.FileOf(name).GetBytes(name).ToArray()));
                continue;
            }
            if (name != module + ".weight") continue;
            var state = Bnb4BitQuantState.Parse(tensors.FileOf(module + infix + "nf4").GetBytes(module + infix + "nf4"), name);
            var nested = new NestedAbsmax(tensors.FileOf(name + ".absmax").GetBytes(name + ".absmax").ToArray(),
                                          tensors.ReadFloat32(name + ".nested_absmax"), tensors.ReadFloat32(name + ".nested_quant_map"),
                                          state.NestedBlockSize!.Value, state.NestedOffset!.Value);
            long count = state.Shape[0] * state.Shape[1];
            var decoded = Bnb4BitReference.Dequantize(tensors.FileOf(name).GetBytes(name), nested.Decode(), FourBitCode.Nf4.Values, 64,
                                                      count);
            written.Add(new TensorToWrite(name, DType.F32, state.Shape, DTypes.FromSingle(DType.F32, decoded)));
        }
        Assert.NotEmpty(modules);
        string file = component.StartsWith("text", StringComparison.Ordinal)
            ? CheckpointTensors.SingleFileName
            : CheckpointTensors.DiffusersFileName;
        SafetensorsWriter.Write(Path.Combine(target, file), written);
        return target;
    }

    void AssertNf4Close(string what, float[] quantized, float[] decoded, float[] dense)
    {
        double toDecoded = Relative(quantized, decoded), toDense = Relative(quantized, dense);
        output.WriteLine($"{what}: ‖quantized − decoded‖/‖decoded‖ {toDecoded:E2}, ‖quantized − dense‖/‖dense‖ {toDense:E2}");
        Assert.True(toDecoded < 1e-5, $"{what}: the 4-bit model is {toDecoded:E2} away from its decoded weights' dense model");
        Assert.InRange(toDense, 5e-3, 0.3); // NF4's error: visible, and far from a different model
    }

    [Fact]
    public void TheTransformerLoadsAsNf4AndComputesWhatItsDecodedWeightsCompute()
    {
        using var backend = new CpuBackend();
        float[] Run(string folder, bool quantized)
        {
            using var model = Sd3Transformer.Load(folder, backend);
            Assert.All(model.AllLinears, l => Assert.Equal(quantized, l is IQuantizedLinear));
            var inputs = Sd3TestRunsInputs(model.Config);
            return Qzo.Tests.Diffusion.Sd3TestRuns.Run(model, inputs)["sample"];
        }
        AssertNf4Close("transformer sample", Run(Path.Combine(sd3.Quantized, "transformer"), true), Run(Decoded("transformer"), false),
                       Run(Path.Combine(sd3.Dense, "transformer"), false));
    }

    static Qzo.Tests.Diffusion.Sd3TestRuns.Inputs Sd3TestRunsInputs(Sd3TransformerConfig c) =>
        Qzo.Tests.Diffusion.Sd3TestRuns.RandomInputs(c, batch: 2, height: 8, width: 8, textTokens: 7, timesteps: [900f, 40f], seed: 3);

    [Theory]
    [InlineData("text_encoder")]
    [InlineData("text_encoder_2")]
    public void ClipEncodersLoadAsNf4WithTheirProjectionDense(string component)
    {
        using var backend = new CpuBackend();
        float[] Run(string folder, bool quantized)
        {
            using var model = ClipTextLoader.Load(folder, backend);
            Assert.Empty(model.UnusedTensors);
            Assert.All(model.Layers.SelectMany(l => l.Linears), l => Assert.Equal(quantized, l is IQuantizedLinear));
            Assert.IsNotAssignableFrom<IQuantizedLinear>(Assert.IsAssignableFrom<ILinear>(model.Projection));
            int eos = model.Config.EosTokenId;
            int[] ids = [model.Config.BosTokenId, 5, 17, 40, 3, eos, eos, eos, model.Config.BosTokenId, 9, 9, 30, eos, eos, eos, eos];
            using var result = model.Forward(ids, 2, 8);
            return HostFloats.Download(backend, result.LastHiddenState).Concat(HostFloats.Download(backend, result.TextEmbeds!)).ToArray();
        }
        AssertNf4Close(component, Run(Path.Combine(sd3.Quantized, component), true), Run(Decoded(component), false),
                       Run(Path.Combine(sd3.Dense, component), false));
    }

    [Fact]
    public void T5LoadsAsNf4WithItsWoDense()
    {
        using var backend = new CpuBackend();
        float[] Run(string folder, bool quantized)
        {
            using var model = T5EncoderLoader.Load(folder, backend);
            Assert.Empty(model.UnusedTensors);
            foreach (var layer in model.Layers)
                Assert.Equal(layer.Linears.Select(l => quantized && !l.Name.EndsWith(".wo", StringComparison.Ordinal)),
                             layer.Linears.Select(l => l is IQuantizedLinear));
            int[] ids = [12, 7, 99, 4, 31, 1, 0, 0, 5, 6, 7, 8, 9, 10, 11, 1];
            using var result = model.Forward(ids, 2, 8);
            return HostFloats.Download(backend, result.LastHiddenState);
        }
        AssertNf4Close("text_encoder_3", Run(Path.Combine(sd3.Quantized, "text_encoder_3"), true), Run(Decoded("text_encoder_3"), false),
                       Run(Path.Combine(sd3.Dense, "text_encoder_3"), false));
    }

    [Fact]
    public void TheVaeLoadsWithNf4AttentionAndDecodesWhatItsDecodedWeightsDecode()
    {
        using var backend = new CpuBackend();
        var latents = VaeTestSupport.RandomImage(1, 16, 4, 4, seed: 9);
        float[] Run(string folder)
        {
            using var vae = AutoencoderKL.Load(folder, backend);
            using var z = VaeTestSupport.Upload(backend, latents);
            using var image = vae.Decode(vae.Context(), z, VaeTestSupport.ShapeOf(latents));
            return VaeTestSupport.Download(backend, image, image.Length);
        }
        // The attention is one of many layers here, so its NF4 error moves the image less than a transformer's.
        float[] quantized = Run(Path.Combine(sd3.Quantized, "vae")), decoded = Run(Decoded("vae"));
        float[] dense = Run(Path.Combine(sd3.Dense, "vae"));
        double toDecoded = Relative(quantized, decoded), toDense = Relative(quantized, dense);
        output.WriteLine($"vae: to decoded {toDecoded:E2}, to dense {toDense:E2}");
        Assert.True(toDecoded < 1e-5, $"vae: {toDecoded:E2} from its decoded weights");
        Assert.InRange(toDense, 1e-5, 0.3);
    }
}
