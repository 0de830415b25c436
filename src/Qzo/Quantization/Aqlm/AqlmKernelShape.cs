namespace Qzo.Quantization.Aqlm;

/// <summary>One AQLM linear as its dequantization kernel sees it (codes stored 1 byte each up to 8 bits, else 2).</summary>
public readonly record struct AqlmKernelShape(int OutFeatures, int InFeatures, int Codebooks, int CodebookBits, int InGroupSize,
    int OutGroupSize)
{
    public int CodebookSize => 1 << CodebookBits;
    public int BytesPerCode => CodebookBits <= 8 ? 1 : 2;
    public int OutGroups => OutFeatures / OutGroupSize;
    public int InGroups => InFeatures / InGroupSize;
}
