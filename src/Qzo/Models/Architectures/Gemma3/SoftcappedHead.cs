using Qzo.Compute;

namespace Qzo.Models.Architectures.Gemma3;

/// <summary>lm_head followed by final_logit_softcapping: logits become cap · tanh(logit / cap).</summary>
sealed class SoftcappedHead(ILinear head, float cap) : ILinear
{
    public ILinear Head { get; } = head;
    public string Name => Head.Name;
    public int InFeatures => Head.InFeatures;
    public int OutFeatures => Head.OutFeatures;
    public IEnumerable<Parameter> Parameters => Head.Parameters;

    public void Forward(ForwardContext context, DeviceTensor x, int rows, DeviceTensor y, bool accumulate = false)
    {
        if (accumulate) throw new NotSupportedException("soft-capped logits cannot accumulate");
        Head.Forward(context, x, rows, y);
        context.Backend.SoftcapInPlace(y, cap, (long)rows * OutFeatures);
    }

    public void Dispose() => Head.Dispose();
}
