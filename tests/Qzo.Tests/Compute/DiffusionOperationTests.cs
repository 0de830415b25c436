using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;

namespace Qzo.Tests.Compute;

/// <summary>The CPU backend's image-model operations (IBackend.Diffusion) against naive double-precision definitions.</summary>
public class DiffusionOperationTests
{
    readonly CpuBackend _cpu = new();

    DeviceTensor Upload(float[] values)
    {
        var t = _cpu.Allocate(DType.F32, values.Length, MemoryCategory.Activations);
        _cpu.Upload<float>(t, values);
        return t;
    }

    float[] Read(DeviceTensor t)
    {
        var values = new float[t.Length];
        _cpu.Download<float>(t, values);
        return values;
    }

    static void AssertClose(double[] expected, float[] actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"element {i}: {actual[i]}, expected {expected[i]}");
    }

    [Theory]
    [InlineData(3, 1, 1, 1, 1, 1, true)]   // the ResNet blocks' 3×3 convolutions
    [InlineData(1, 1, 0, 0, 0, 0, false)]  // 1×1 shortcuts and quant convs
    [InlineData(3, 2, 0, 1, 0, 1, true)]   // the VAE encoder's downsampler: padding right and bottom only
    [InlineData(3, 2, 0, 1, 0, 1, false)]
    [InlineData(2, 2, 0, 0, 0, 0, true)]   // a patch embedding: kernel = stride
    [InlineData(3, 1, 2, 0, 1, 3, false)]  // uneven padding on every side
    public void Conv2dIsTorchsConvolution(int kernel, int stride, int top, int bottom, int left, int right, bool withBias)
    {
        const int batch = 2, cIn = 3, height = 7, width = 6, cOut = 4;
        var padding = new Padding2d(top, bottom, left, right);
        var x = BackendTestData.Random(batch * cIn * height * width, 1);
        var weight = BackendTestData.Random(cOut * cIn * kernel * kernel, 2);
        var bias = BackendTestData.Random(cOut, 3);
        var expected = ReferenceConv2d(x, weight, withBias ? bias : null, batch, cIn, height, width, cOut, kernel, stride, padding,
            out int outHeight, out int outWidth);
        using var xt = Upload(x); using var wt = Upload(weight); using var bt = Upload(bias);
        using var y = _cpu.Allocate(DType.F32, batch * cOut * outHeight * outWidth, MemoryCategory.Activations);
        _cpu.Conv2d(xt, wt, withBias ? bt : null, y, batch, cIn, height, width, cOut, kernel, stride, padding);
        AssertClose(expected, Read(y));
    }

    [Fact]
    public void Conv2dOverSeveralBandsOfOutputRows()
    {
        // 9·2048 patch values per output row: the patch matrix budget (8 Mi floats) takes 455 rows at a time, so three bands.
        const int height = 1000, width = 2048, cOut = 2;
        var x = BackendTestData.Random(height * width, 4);
        var weight = BackendTestData.Random(cOut * 9, 5);
        var bias = BackendTestData.Random(cOut, 6);
        var expected = ReferenceConv2d(x, weight, bias, 1, 1, height, width, cOut, 3, 1, Padding2d.Same(1), out _, out _);
        using var xt = Upload(x); using var wt = Upload(weight); using var bt = Upload(bias);
        using var y = _cpu.Allocate(DType.F32, cOut * height * width, MemoryCategory.Activations);
        _cpu.Conv2d(xt, wt, bt, y, 1, 1, height, width, cOut, 3, 1, Padding2d.Same(1));
        AssertClose(expected, Read(y));
    }

    internal static double[] ReferenceConv2d(float[] x, float[] weight, float[]? bias, int batch, int cIn, int height, int width, int cOut,
                                             int kernel, int stride, Padding2d padding, out int outHeight, out int outWidth)
    {
        outHeight = (height + padding.Top + padding.Bottom - kernel) / stride + 1;
        outWidth = (width + padding.Left + padding.Right - kernel) / stride + 1;
        var y = new double[batch * cOut * outHeight * outWidth];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < cOut; o++)
                for (int i = 0; i < outHeight; i++)
                    for (int j = 0; j < outWidth; j++)
                    {
                        double sum = bias?[o] ?? 0;
                        for (int c = 0; c < cIn; c++)
                            for (int u = 0; u < kernel; u++)
                                for (int v = 0; v < kernel; v++)
                                {
                                    int row = i * stride + u - padding.Top, column = j * stride + v - padding.Left;
                                    if (row < 0 || row >= height || column < 0 || column >= width) continue;
                                    sum += (double)weight[((o * cIn + c) * kernel + u) * kernel + v] *
                                           x[((b * cIn + c) * height + row) * width + column];
                                }
                        y[((b * cOut + o) * outHeight + i) * outWidth + j] = sum;
                    }
        return y;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GroupNormNormalizesEachGroupOfChannels(bool inPlace)
    {
        const int batch = 2, channels = 6, spatial = 10, groups = 3;
        const float eps = 1e-6f;
        var x = BackendTestData.Random(batch * channels * spatial, 7).Select((v, i) => v * 3 + i / 20).ToArray();
        var weight = BackendTestData.Random(channels, 8);
        var bias = BackendTestData.Random(channels, 9);
        var expected = ReferenceGroupNorm(x, weight, bias, batch, channels, spatial, groups, eps);
        using var xt = Upload(x); using var wt = Upload(weight); using var bt = Upload(bias);
        using var y = _cpu.Allocate(DType.F32, x.Length, MemoryCategory.Activations);
        _cpu.GroupNorm(xt, wt, bt, inPlace ? xt : y, batch, channels, spatial, groups, eps);
        AssertClose(expected, Read(inPlace ? xt : y));
    }

    internal static double[] ReferenceGroupNorm(float[] x, float[] weight, float[] bias, int batch, int channels, int spatial, int groups,
                                                float eps)
    {
        var y = new double[x.Length];
        int length = channels / groups * spatial;
        for (int b = 0; b < batch; b++)
            for (int g = 0; g < groups; g++)
            {
                int start = (b * channels + g * channels / groups) * spatial;
                var values = x.Skip(start).Take(length).Select(v => (double)v).ToArray();
                double mean = values.Average(), variance = values.Sum(v => (v - mean) * (v - mean)) / length;
                for (int i = 0; i < length; i++)
                {
                    int c = (start + i) / spatial % channels;
                    y[start + i] = (values[i] - mean) / Math.Sqrt(variance + eps) * weight[c] + bias[c];
                }
            }
        return y;
    }

    [Fact]
    public void UpsampleNearest2xRepeatsEachPixelInATwoByTwoBlock()
    {
        const int planes = 3, height = 2, width = 5;
        var x = BackendTestData.Random(planes * height * width, 10);
        using var xt = Upload(x);
        using var y = _cpu.Allocate(DType.F32, x.Length * 4, MemoryCategory.Activations);
        _cpu.UpsampleNearest2x(xt, y, planes, height, width);
        var expected = new double[x.Length * 4];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < 2 * height; i++)
                for (int j = 0; j < 2 * width; j++)
                    expected[(p * 2 * height + i) * 2 * width + j] = x[(p * height + i / 2) * width + j / 2];
        AssertClose(expected, Read(y), 0);
    }

    [Theory]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.GeluTanh)]
    [InlineData(Activation.GeluErf)]
    [InlineData(Activation.QuickGelu)]
    public void ActivationsAreTorchs(Activation activation)
    {
        var x = Enumerable.Range(0, 81).Select(i => (i - 40) / 5f).Append(-30f).Append(30f).ToArray();
        using var xt = Upload(x);
        _cpu.ActivationInPlace(xt, activation, x.Length);
        var actual = Read(xt);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = ReferenceActivation(activation, x[i]);
            // Relative even in the negative tails (the exact GELU's erfc must not cancel), but for torch's tanh GELU, whose
            // 1 + tanh(u) cancels in fp32 too; 1e-5: an fp32 exponent near 32 is off by up to 4e-6 before exp.
            double absolute = activation == Activation.GeluTanh ? 1e-6 : 1e-30;
            Assert.True(Math.Abs(expected - actual[i]) <= 1e-5 * Math.Abs(expected) + absolute,
                $"{activation}({x[i]}) = {actual[i]}, expected {expected}");
        }
    }

    internal static double ReferenceActivation(Activation activation, double x) => activation switch
    {
        Activation.Silu => x / (1 + Math.Exp(-x)),
        Activation.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        Activation.GeluErf => 0.5 * x * ReferenceErfc(-x / Math.Sqrt(2)),
        Activation.QuickGelu => x / (1 + Math.Exp(-1.702 * x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>erfc in double: 1 − (Taylor series of erf) near 0, the continued fraction beyond; negative z: 2 − erfc(−z).</summary>
    internal static double ReferenceErfc(double z)
    {
        if (z < 0) return 2 - ReferenceErfc(-z);
        if (z < 2)
        {
            double term = z, sum = z;
            for (int n = 1; n < 60; n++) { term *= -z * z / n; sum += term / (2 * n + 1); }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        double fraction = 0; // erfc(z) = e^{−z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …))))
        for (int n = 200; n >= 1; n--) fraction = n / 2.0 / (z + fraction);
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / (z + fraction);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ModulateShiftsAndScalesEachBatchRowsTokens(bool inPlace)
    {
        const int batch = 2, tokens = 3, dim = 5, chunks = 6;
        var x = BackendTestData.Random(batch * tokens * dim, 11);
        var modulation = BackendTestData.Random(batch * chunks * dim, 12); // [batch, 6·dim]: shift is chunk 1, scale chunk 4
        using var xt = Upload(x); using var mt = Upload(modulation);
        using var y = _cpu.Allocate(DType.F32, x.Length, MemoryCategory.Activations);
        var view = MatrixView.Of(mt, chunks * dim);
        _cpu.Modulate(xt, view.At(0, dim), view.At(0, 4 * dim), inPlace ? xt : y, batch, tokens, dim);
        var expected = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int b = i / (tokens * dim), j = i % dim;
            expected[i] = x[i] * (1.0 + modulation[b * chunks * dim + 4 * dim + j]) + modulation[b * chunks * dim + dim + j];
        }
        AssertClose(expected, Read(inPlace ? xt : y));
    }

    [Fact]
    public void GatedAddAddsTheGatedResidual()
    {
        const int batch = 2, tokens = 3, dim = 5, chunks = 3;
        var x = BackendTestData.Random(batch * tokens * dim, 13);
        var y = BackendTestData.Random(batch * tokens * dim, 14);
        var modulation = BackendTestData.Random(batch * chunks * dim, 15);
        using var xt = Upload(x); using var yt = Upload(y); using var mt = Upload(modulation);
        _cpu.GatedAddInPlace(xt, MatrixView.Of(mt, chunks * dim).At(0, 2 * dim), yt, batch, tokens, dim);
        var expected = x.Select((v, i) => v + (double)modulation[i / (tokens * dim) * chunks * dim + 2 * dim + i % dim] * y[i]).ToArray();
        AssertClose(expected, Read(xt));
    }

    [Theory]
    [InlineData(false, 0f)]
    [InlineData(true, 0f)]
    [InlineData(true, 1f)]  // T5: unscaled scores plus the relative-position bias
    [InlineData(false, 1f)]
    public void AttentionIsFullSoftmaxAttention(bool withBias, float scale)
    {
        const int batch = 2, queries = 5, keys = 7, heads = 3, headDim = 4;
        var q = BackendTestData.Random(batch * queries * heads * headDim, 16).Select(v => v * 2).ToArray();
        var k = BackendTestData.Random(batch * keys * heads * headDim, 17).Select(v => v * 2).ToArray();
        var v = BackendTestData.Random(batch * keys * heads * headDim, 18);
        var bias = BackendTestData.Random(heads * queries * keys, 19).Select(b => b * 3).ToArray();
        var expected = ReferenceAttention(q, k, v, withBias ? bias : null, batch, queries, keys, heads, headDim, scale);
        using var qt = Upload(q); using var kt = Upload(k); using var vt = Upload(v); using var bt = Upload(bias);
        using var output = _cpu.Allocate(DType.F32, q.Length, MemoryCategory.Activations);
        _cpu.Attention(qt, kt, vt, withBias ? bt : null, output, batch, queries, keys, heads, headDim, scale);
        AssertClose(expected, Read(output));
    }

    internal static double[] ReferenceAttention(float[] q, float[] k, float[] v, float[]? bias, int batch, int queries, int keys, int heads,
                                                int headDim, float scale)
    {
        double s = scale == 0 ? 1 / Math.Sqrt(headDim) : scale;
        var output = new double[q.Length];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < queries; i++)
                {
                    var scores = new double[keys];
                    for (int j = 0; j < keys; j++)
                    {
                        for (int d = 0; d < headDim; d++)
                            scores[j] += (double)q[((b * queries + i) * heads + h) * headDim + d] *
                                         k[((b * keys + j) * heads + h) * headDim + d];
                        scores[j] = scores[j] * s + (bias?[(h * queries + i) * keys + j] ?? 0);
                    }
                    double max = scores.Max();
                    var weights = scores.Select(x => Math.Exp(x - max)).ToArray();
                    double total = weights.Sum();
                    for (int j = 0; j < keys; j++)
                        for (int d = 0; d < headDim; d++)
                            output[((b * queries + i) * heads + h) * headDim + d] +=
                                weights[j] / total * v[((b * keys + j) * heads + h) * headDim + d];
                }
        return output;
    }

    [Theory]
    [InlineData(new[] { 2, 3, 2, 4, 2, 5 }, new[] { 0, 5, 1, 3, 2, 4 })] // SD3's unpatchify: [b, h, w, p, p, c] → [b, c, h, p, w, p]
    [InlineData(new[] { 3, 5 }, new[] { 1, 0 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 0, 2, 1 })]                   // NCHW ↔ tokens
    [InlineData(new[] { 7 }, new[] { 0 })]
    public void PermuteReordersAxesForAnyElementType(int[] shape, int[] order)
    {
        int count = shape.Aggregate(1, (a, n) => a * n);
        var values = Enumerable.Range(0, count).Select(i => i * 7 + 3).ToArray();
        var expected = ReferencePermute(values, shape, order);
        foreach (var dtype in new[] { DType.I32, DType.BF16 })
        {
            int size = dtype.SizeInBytes();
            using var x = _cpu.Allocate(dtype, count, MemoryCategory.Activations);
            using var y = _cpu.Allocate(dtype, count, MemoryCategory.Activations);
            _cpu.Upload<byte>(x, values.SelectMany(v => BitConverter.GetBytes(v).Take(size)).ToArray());
            _cpu.Permute(x, y, shape, order);
            var raw = new byte[count * size];
            _cpu.Download<byte>(y, raw);
            var actual = Enumerable.Range(0, count)
                .Select(i => size == 4 ? BitConverter.ToInt32(raw, 4 * i) : BitConverter.ToUInt16(raw, 2 * i)).ToArray();
            Assert.Equal(expected.Select(v => size == 4 ? v : (ushort)v), actual);
        }
    }

    internal static int[] ReferencePermute(int[] x, int[] shape, int[] order)
    {
        var y = new int[x.Length];
        var outShape = order.Select(a => shape[a]).ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            var coordinates = new int[shape.Length];
            for (int a = shape.Length - 1, rest = i; a >= 0; a--) { coordinates[a] = rest % shape[a]; rest /= shape[a]; }
            int target = 0;
            for (int a = 0; a < order.Length; a++) target = target * outShape[a] + coordinates[order[a]];
            y[target] = x[i];
        }
        return y;
    }

    [Fact]
    public void PermuteRejectsAnOrderThatIsNotAPermutation()
    {
        using var x = Upload(new float[6]);
        var error = Assert.Throws<ArgumentException>(() => _cpu.Permute(x, x, [2, 3], [0, 0]));
        Assert.Contains("not an order", error.Message);
    }

    [Fact]
    public void AxpbyIsALinearCombination()
    {
        var x = BackendTestData.Random(100, 20);
        var y = BackendTestData.Random(100, 21);
        using var xt = Upload(x); using var yt = Upload(y);
        _cpu.Axpby(xt, yt, 0.75f, -2.5f, 90);
        AssertClose(x.Select((v, i) => i < 90 ? 0.75 * v - 2.5 * y[i] : v).ToArray(), Read(xt));
    }

    [Fact]
    public void CopyMatrixCopiesIntegerRowsBetweenStrides()
    {
        // two sequences of 3 tokens (rows of width 4) into the second half of rows of a concatenation [2, 5 tokens, 4]
        using var source = _cpu.Allocate(DType.I32, 2 * 3 * 4, MemoryCategory.Activations);
        using var destination = _cpu.Allocate(DType.I32, 2 * 5 * 4, MemoryCategory.Activations);
        _cpu.Upload<int>(source, Enumerable.Range(1, 24).ToArray());
        _cpu.CopyMatrix(MatrixView.Of(source, 12), new MatrixView(destination, 2 * 4, 5 * 4), 2, 12);
        var actual = new int[40];
        _cpu.Download<int>(destination, actual);
        var expected = new int[40];
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 12; i++) expected[b * 20 + 8 + i] = b * 12 + i + 1;
        Assert.Equal(expected, actual);
        Assert.Throws<ArgumentException>(() => _cpu.CopyMatrix(MatrixView.Of(source, 12), new MatrixView(destination, 30, 20), 2, 12));
    }
}
