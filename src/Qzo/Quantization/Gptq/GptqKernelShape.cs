namespace Qzo.Quantization.Gptq;

/// <summary>Dimensions of one GPTQ linear as the dequantization kernel needs them.</summary>
public readonly record struct GptqKernelShape(int InFeatures, int OutFeatures, int Groups, int Bits, bool ZerosOffsetByOne);
