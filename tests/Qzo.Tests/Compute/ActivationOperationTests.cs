using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Numerics;

namespace Qzo.Tests.Compute;

/// <summary>
/// The CPU backend's activation operations (the (1 + weight) RMSNorm, the tanh-GELU gate, soft-capping, scaling) and
/// attention's explicit score scale, against plain double-precision definitions.
/// </summary>
public class ActivationOperationTests
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

    [Fact]
    public void RmsNormOnePlusWeightScalesByOnePlusTheStoredWeight()
    {
        const int rows = 3, dim = 40;
        const float eps = 1e-6f;
        var x = BackendTestData.Random(rows * dim, 2).Select(v => v * 5).ToArray();
        var weight = BackendTestData.Random(dim, 3);
        using var xt = Upload(x); using var wt = Upload(weight);
        _cpu.RmsNormOnePlusWeight(xt, wt, xt, rows, dim, eps); // in place, as q/k norms run
        var actual = Read(xt);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Skip(r * dim).Take(dim).Select(v => (double)v).ToArray();
            double rms = Math.Sqrt(row.Sum(v => v * v) / dim + eps);
            for (int i = 0; i < dim; i++) Assert.Equal(row[i] / rms * (1 + weight[i]), actual[r * dim + i], 1e-5);
        }
    }

    [Fact]
    public void GeluTanhMulIsTorchsTanhApproximation()
    {
        var gate = new[] { -6f, -1f, -0.5f, 0f, 0.5f, 1f, 3f, 20f };
        var up = BackendTestData.Random(gate.Length, 4);
        using var g = Upload(gate); using var u = Upload(up);
        _cpu.GeluTanhMulInPlace(g, u, gate.Length);
        var actual = Read(g);
        for (int i = 0; i < gate.Length; i++)
        {
            double x = gate[i];
            double gelu = 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            Assert.Equal(gelu * up[i], actual[i], 1e-6);
        }
        using var one = Upload([1f]); using var unit = Upload([1f]);
        _cpu.GeluTanhMulInPlace(one, unit, 1);
        Assert.Equal(0.8411920070648193, Read(one)[0], 1e-6); // torch.nn.functional.gelu(torch.tensor(1.), approximate="tanh")
    }

    [Fact]
    public void SoftcapClampsSmoothlyAndScaleMultiplies()
    {
        var x = new[] { -1000f, -5f, -0.1f, 0f, 0.1f, 5f, 1000f, 7f };
        using var t = Upload(x);
        _cpu.SoftcapInPlace(t, 5f, 7);
        var capped = Read(t);
        for (int i = 0; i < 7; i++) Assert.Equal(5 * Math.Tanh(x[i] / 5.0), capped[i], 1e-5);
        Assert.Equal(7f, capped[7]); // past count: untouched
        Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.SoftcapInPlace(t, 0f, 1));

        _cpu.ScaleInPlace(t, 2.5f, 2);
        Assert.Equal([capped[0] * 2.5f, capped[1] * 2.5f, capped[2]], Read(t).Take(3));
    }

    [Fact]
    public void AttentionScoresUseTheGivenScale()
    {
        // Scale s on q·k equals the default 1/√d on (s·√d)·q; 0 is the default itself.
        const int batch = 2, seq = 7, heads = 2, kvHeads = 1, headDim = 8;
        var q = BackendTestData.Random(batch * seq * heads * headDim, 5).Select(v => v * 3).ToArray();
        var k = BackendTestData.Random(batch * seq * kvHeads * headDim, 6);
        var v = BackendTestData.Random(batch * seq * kvHeads * headDim, 7);
        float scale = 1 / MathF.Sqrt(3);
        using var qt = Upload(q); using var kt = Upload(k); using var vt = Upload(v);
        using var rescaled = Upload(q.Select(x => x * scale * MathF.Sqrt(headDim)).ToArray());
        using var mask = _cpu.Allocate(DType.I32, batch * seq, MemoryCategory.Activations);
        _cpu.Upload<int>(mask, Enumerable.Repeat(1, batch * seq).ToArray());
        using var a = _cpu.Allocate(DType.F32, q.Length, MemoryCategory.Activations);
        using var b = _cpu.Allocate(DType.F32, q.Length, MemoryCategory.Activations);

        _cpu.CausalAttention(qt, kt, vt, mask, a, batch, seq, heads, kvHeads, headDim, 3, scale);
        _cpu.CausalAttention(rescaled, kt, vt, mask, b, batch, seq, heads, kvHeads, headDim, 3);
        var (expected, actual) = (Read(b), Read(a));
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5);

        _cpu.CachedAttention(qt, kt, vt, mask, b, batch, seq, seq, seq, heads, kvHeads, headDim, 3, scale);
        Assert.Equal(actual, Read(b));
        _cpu.CausalAttention(qt, kt, vt, mask, a, batch, seq, heads, kvHeads, headDim, 0, 1 / MathF.Sqrt(headDim));
        _cpu.CausalAttention(qt, kt, vt, mask, b, batch, seq, heads, kvHeads, headDim, 0);
        Assert.Equal(Read(b), Read(a));
    }
}
