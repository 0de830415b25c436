using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Quantization;
using Qzo.Quantization.Bnb;

namespace Qzo.Tests.Diffusion.Quantization;

/// <summary>
/// The tiny synthesized SD3 pipeline (bf16) and its copy with every component quantized to NF4 with double
/// quantization, made once for the quantization tests (about two seconds).
/// </summary>
public sealed class QuantizedTinySd3 : IDisposable
{
    readonly TempFolder _folder = new();
    public string Dense => _folder["sd3"];
    public string Quantized => _folder["sd3-nf4"];
    public static readonly Bnb4BitCheckpointFormat Format = new(FourBitType.Nf4, 64, DoubleQuant: true);
    public IReadOnlyList<ComponentQuantizeReport> Reports { get; }

    public QuantizedTinySd3()
    {
        Sd3PipelineSynthesis.Write(Dense, new Sd3SynthOptions { Seed = 11 });
        Reports = PipelineQuantizer.Quantize(Dense, Quantized, PipelineQuantizer.QuantizableComponents, Format);
    }

    public string Scratch(string name) => _folder[name];

    public void Dispose() => _folder.Dispose();
}
