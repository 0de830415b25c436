namespace Qzo.Quantization.Bnb;

/// <summary>One bitsandbytes 4-bit linear as its dequantization kernel sees it: the flattened [out, in] weight in blocks.</summary>
public readonly record struct Bnb4BitKernelShape(int OutFeatures, int InFeatures, int BlockSize)
{
    public long Count => (long)OutFeatures * InFeatures;
    public long Blocks => (Count + BlockSize - 1) / BlockSize;
}
