using Qzo.Compute;
using Qzo.Models.Architectures.LlamaLayout;
using Qzo.Numerics;

namespace Qzo.Models.Architectures.Gemma3;

/// <summary>cos and sin tables of the local and the global RoPE on the device, grown when a later position arrives.</summary>
sealed class Gemma3RopeTables(IBackend backend, Gemma3Config config) : IDisposable
{
    readonly float[] _localFrequencies = config.LocalRope.InverseFrequencies(config.HeadDim);
    readonly float[] _globalFrequencies = config.GlobalRope.InverseFrequencies(config.HeadDim);
    DeviceTensor? _localCos, _localSin, _globalCos, _globalSin;
    int _positions;

    public void Ensure(int count)
    {
        if (count <= _positions) return;
        int positions = Math.Max(count, 256);
        Dispose();
        (_localCos, _localSin) = Upload(_localFrequencies, positions);
        (_globalCos, _globalSin) = Upload(_globalFrequencies, positions);
        _positions = positions;
    }

    /// <summary>The tables layer <paramref name="layer"/> rotates with.</summary>
    public (DeviceTensor Cos, DeviceTensor Sin) For(int layer) =>
        config.SlidingLayers[layer] ? (_localCos!, _localSin!) : (_globalCos!, _globalSin!);

    (DeviceTensor, DeviceTensor) Upload(float[] frequencies, int positions)
    {
        var (cos, sin) = LlamaModel.RopeTables(frequencies, positions);
        var cosTensor = backend.Allocate(DType.F32, cos.Length, MemoryCategory.Workspace);
        var sinTensor = backend.Allocate(DType.F32, sin.Length, MemoryCategory.Workspace);
        backend.Upload<float>(cosTensor, cos);
        backend.Upload<float>(sinTensor, sin);
        return (cosTensor, sinTensor);
    }

    public void Dispose()
    {
        _localCos?.Dispose(); _localSin?.Dispose(); _globalCos?.Dispose(); _globalSin?.Dispose();
        _positions = 0;
    }
}
