using Qzo.Compute;
using Qzo.Diffusion.Vae;
using Qzo.Numerics;

namespace Qzo.Tests.Diffusion.Vae;

/// <summary>Moving reference images to and from a backend, and comparing them.</summary>
public static class VaeTestSupport
{
    public static ImageShape ShapeOf(RefImage x) => new(x.B, x.C, x.H, x.W);

    public static RefImage RandomImage(int b, int c, int h, int w, int seed, double scale = 1)
    {
        var random = new Random(seed);
        var x = RefImage.Zeros(b, c, h, w);
        for (int i = 0; i < x.V.Length; i++) x.V[i] = scale * (2 * random.NextDouble() - 1);
        return x;
    }

    /// <summary>The image as the backend's compute type (its values rounded to fp32 first, as the reference then sees them).</summary>
    public static DeviceTensor Upload(IBackend backend, RefImage x)
    {
        var values = x.V.Select(v => (float)v).ToArray();
        for (int i = 0; i < values.Length; i++) x.V[i] = values[i];
        var t = backend.Allocate(backend.ComputeType, values.Length, MemoryCategory.Activations);
        if (t.DType == DType.F32) backend.Upload<float>(t, values);
        else backend.Upload<byte>(t, DTypes.FromSingle(t.DType, values));
        return t;
    }

    public static float[] Download(IBackend backend, DeviceTensor t, long count)
    {
        var values = new float[count];
        if (t.DType == DType.F32) backend.Download<float>(t, values);
        else
        {
            var raw = new byte[count * t.DType.SizeInBytes()];
            backend.Download<byte>(t, raw);
            DTypes.ToSingle(t.DType, raw, values);
        }
        return values;
    }

    /// <summary>max |actual − expected| over max |expected|; fails when the lengths differ.</summary>
    public static double RelativeError(IReadOnlyList<double> expected, IReadOnlyList<float> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        double max = 0, scale = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        Assert.True(scale > 0, "the reference is all zeros: the comparison would prove nothing");
        return max / scale;
    }

    public static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double tolerance, string what)
    {
        double error = RelativeError(expected, actual);
        Assert.True(error <= tolerance, $"{what}: relative error {error:E2} > {tolerance:E0}");
    }

    /// <summary>Channels [first, first + count) of every image of x (torch.chunk along dim 1).</summary>
    public static double[] Channels(RefImage x, int first, int count)
    {
        long plane = (long)x.H * x.W;
        var y = new double[x.B * count * plane];
        for (int b = 0; b < x.B; b++) Array.Copy(x.V, (b * x.C + first) * plane, y, b * count * plane, count * plane);
        return y;
    }
}
