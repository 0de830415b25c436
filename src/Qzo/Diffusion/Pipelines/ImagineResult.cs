using Qzo.Imaging;

namespace Qzo.Diffusion.Pipelines;

/// <summary>
/// The images of a request (prompt-major: prompt 0's images first), the seconds each stage took, and the device's peak
/// bytes of each stage (encoders, denoising, decoding, each measured alone) and by memory category while decoding.
/// DenoiseSeconds includes loading the transformer (<see cref="TransformerLoadSeconds"/>) and the step loop
/// (<see cref="StepSeconds"/>, one entry per step).
/// </summary>
public sealed record ImagineResult(IReadOnlyList<RgbImage> Images, double EncodeSeconds, double DenoiseSeconds, double DecodeSeconds,
                                   long EncodePeakBytes, long DenoisePeakBytes, long DecodePeakBytes,
                                   IReadOnlyDictionary<string, long> PeakByCategory, float[] FinalLatents,
                                   double TransformerLoadSeconds, IReadOnlyList<double> StepSeconds);
