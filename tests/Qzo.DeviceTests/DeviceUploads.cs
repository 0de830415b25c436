using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.DeviceTests;

/// <summary>Host values uploaded into new workspace tensors of a backend, for the device checks.</summary>
static class DeviceUploads
{
    public static DeviceTensor Bf16(IBackend b, float[] values)
    {
        var t = b.Allocate(DType.BF16, values.Length, MemoryCategory.Workspace);
        b.Upload<byte>(t, DTypes.FromSingle(DType.BF16, values));
        return t;
    }

    public static DeviceTensor F32(IBackend b, float[] values)
    {
        var t = b.Allocate(DType.F32, values.Length, MemoryCategory.Workspace);
        b.Upload<float>(t, values);
        return t;
    }
}
