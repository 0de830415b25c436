using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Training;

namespace Qzo.Tests.Diffusion.Training;

/// <summary>
/// The training tests' shared material, made once: a tiny synthesized SD3 pipeline whose transformer is NF4 (plain fp32
/// absmax) and another with double-quantized absmax, and the styled pairs cached from it (48 to train on, 16 held out).
/// </summary>
public sealed class TinyNf4Sd3 : IDisposable
{
    readonly TempFolder _folder = new();

    public TinyNf4Sd3()
    {
        Sd3PipelineSynthesis.Write(_folder["bf16"], new Sd3SynthOptions { Seed = 11 });
        Sd3Nf4.Quantize(_folder["bf16"], Pipeline, doubleQuant: false);
        Sd3Nf4.Quantize(_folder["bf16"], DoubleQuantPipeline, doubleQuant: true);
        var pairs = StyledPairs.Build(Pipeline, 64, seed: 3);
        Train = pairs.Take(48).ToList();
        Validation = pairs.Skip(48).ToList();
    }

    public string DensePipeline => _folder["bf16"];
    public string Pipeline => _folder["nf4"];
    public string DoubleQuantPipeline => _folder["nf4-dq"];
    public IReadOnlyList<CachedImageCaption> Train { get; }
    public IReadOnlyList<CachedImageCaption> Validation { get; }
    public string NewFolder(string name) => _folder[$"{name}-{Guid.NewGuid():N}"];

    public void Dispose() => _folder.Dispose();
}
