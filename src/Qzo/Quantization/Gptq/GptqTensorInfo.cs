using Qzo.Numerics;

namespace Qzo.Quantization.Gptq;

/// <summary>What a loader knows about one stored tensor before reading it: full name, element type, shape.</summary>
public sealed record GptqTensorInfo(string Name, DType DType, IReadOnlyList<long> Shape)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
