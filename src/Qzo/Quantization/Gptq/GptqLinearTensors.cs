namespace Qzo.Quantization.Gptq;

/// <summary>
/// One quantized linear in the GPTQ layout, as a checkpoint stores it: QWeight [in·bits/32, out], QZeros
/// [groups, out·bits/32] (in the config's checkpoint format), Scales [groups, out], GIdx [in]; all row-major.
/// </summary>
public sealed record GptqLinearTensors(int[] QWeight, int[] QZeros, Half[] Scales, int[] GIdx, int InFeatures, int OutFeatures, int Groups);
