using Qzo.Compute;
using Qzo.Numerics;

namespace Qzo.DeviceTests.Kernels;

/// <summary>
/// One case per <see cref="IBackend"/> operation at a model's shape. Tolerances are those of the operation's CPU-versus-GPU
/// unit case (tests/Qzo.Tests/Compute: GpuKernelTests, GpuActivationKernelTests, GpuGptqTests, GpuTransferAndRandomTests).
/// </summary>
static class BackendKernelCases
{
    static readonly Tolerance Bf16Once = new(1.0 / 256, 0);          // one rounding of the fp32 result to bf16
    static readonly Tolerance Bf16WithExp = new(1.0 / 256, 1e-6);    // plus fp32 differences in exp/tanh
    static readonly Tolerance Norm = new(2.0 / 128, 1e-3);
    static readonly Tolerance Rope = new(3.0 / 128, 2e-2);
    static readonly Tolerance Attention = new(2.0 / 128, 2e-3);
    static readonly Tolerance Fp32Rows = new(1e-5, 1e-5);             // fp32 reductions in a different order
    static readonly Tolerance Gemm = new(1.0 / 128, 1e-4);

    public static IEnumerable<KernelCase> For(HarnessShape s)
    {
        int t = s.Tokens, h = s.Hidden, f = s.Intermediate, v = s.Vocab, hd = s.HeadDim, kv = s.KvHeads * hd;
        string rows = $"{t}×{h}", mlp = $"{t}×{f}", weight = $"{f}×{h}", logits = $"{t}×{v}";

        yield return new("Allocate", $"{t}×{h} bf16", Tolerance.Exact, NvrtcVariant.None, c =>
            new(() => c.Backend.Allocate(c.Backend.ComputeType, (long)t * h, MemoryCategory.Workspace).Dispose(), null));
        yield return new("Upload", rows, Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var x = c.Zeros(t * h); var bytes = DTypes.FromSingle(x.DType, CaseInputs.Values(t * h, 1)); // encoded once, not timed
            return new(() => c.Backend.Upload<byte>(x, bytes), () => c.Read(x));
        }, "driver");
        yield return new("Download", rows, Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var x = c.Activation(t * h, 1); var raw = new byte[x.ByteLength];
            return new(() => c.Backend.Download<byte>(x, raw), () => c.Read(x));
        }, "driver");
        yield return new("Copy", rows, Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var x = c.Activation(t * h, 1); var y = c.Zeros(t * h);
            return new(() => c.Backend.Copy(x, y, (long)t * h), () => c.Read(y));
        }, "driver");
        yield return new("Synchronize", "idle stream", Tolerance.Exact, NvrtcVariant.None, c => new(c.Backend.Synchronize, null), "driver");

        yield return new("MatMulTransposedB", $"{t}×{h} · ({h}×{h})ᵀ", Gemm, NvrtcVariant.None, c =>
        {
            var a = c.Activation(t * h, 2); var b = c.Activation(h * h, 3, 0.05f); var y = c.Zeros(t * h);
            return new(() => c.Backend.MatMulTransposedB(a, b, y, t, h, h), () => c.Read(y));
        }, "cublas");
        yield return new("MatMul", $"{t}×{h} · {h}×{h}", Gemm, NvrtcVariant.None, c =>
        {
            var a = c.Activation(t * h, 2); var b = c.Activation(h * h, 3, 0.05f); var y = c.Zeros(t * h);
            return new(() => c.Backend.MatMul(a, b, y, t, h, h), () => c.Read(y));
        }, "cublas");
        yield return new("EmbeddingGather", $"{t} of {v}×{h}", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var table = c.Activation(v * h, 4); var ids = c.Ints(Enumerable.Range(0, t).Select(i => (int)((i * 7919L) % v)).ToArray());
            var y = c.Zeros(t * h);
            return new(() => c.Backend.EmbeddingGather(table, ids, y, t, h), () => c.Read(y));
        });

        yield return new("RmsNorm", rows, Norm, NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(t * h, 5, 3f); var w = c.Activation(h, 6); var y = c.Zeros(t * h);
            return new(() => c.Backend.RmsNorm(x, w, y, t, h, 1e-5f), () => c.Read(y));
        });
        yield return new("RmsNormOnePlusWeight", rows, new(1.0 / 128, 1e-3), NvrtcVariant.None, c =>
        {
            var x = c.Activation(t * h, 5, 3f); var w = c.Activation(h, 6); var y = c.Zeros(t * h);
            return new(() => c.Backend.RmsNormOnePlusWeight(x, w, y, t, h, 1e-6f), () => c.Read(y));
        });
        yield return new("LayerNorm", rows, new(1.0 / 256, 1e-5), NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(t * h, 5, 3f); var w = c.Activation(h, 6, 2f); var b = c.Activation(h, 7); var y = c.Zeros(t * h);
            return new(() => c.Backend.LayerNorm(x, w, b, y, t, h, 1e-5f), () => c.Read(y));
        });
        yield return new("ApplyRope", $"{t}×{s.Heads}×{hd}", Rope, NvrtcVariant.Streaming, c =>
        {
            int pairs = hd / 2;
            var angles = Enumerable.Range(0, s.Seq * pairs).Select(i => (float)(i / pairs * Math.Pow(10000, -2.0 * (i % pairs) / hd)))
                                   .ToArray(); // position × inverse frequency, as Llama's tables
            var cos = c.F32(angles.Select(MathF.Cos).ToArray()); var sin = c.F32(angles.Select(MathF.Sin).ToArray());
            var positions = c.Ints(Enumerable.Range(0, t).Select(i => i % s.Seq).ToArray());
            var x = c.Activation(t * h, 8, 3f);
            // In place: the check reads the first rotation; the timed runs rotate further, which costs the same.
            return new(() => c.Backend.ApplyRope(x, positions, cos, sin, t, s.Heads, hd), () => c.Read(x));
        });

        string heads = $"{s.Heads}/{s.KvHeads} heads × {hd}";
        yield return new("CausalAttention", $"{s.Batch}×{s.Seq}, {heads}", Attention, NvrtcVariant.Attention, c =>
        {
            var q = c.Activation(t * h, 9, 2f); var k = c.Activation(t * kv, 10, 2f); var val = c.Activation(t * kv, 11);
            var mask = c.Ints(Enumerable.Range(0, t).Select(i => i % s.Seq >= i / s.Seq % 4 * 8 ? 1 : 0).ToArray()); // some left padding
            var y = c.Zeros(t * h);
            return new(() => c.Backend.CausalAttention(q, k, val, mask, y, s.Batch, s.Seq, s.Heads, s.KvHeads, hd, 0), () => c.Read(y));
        });
        int maxLength = 2 * s.Seq, cacheLength = s.Seq + 1;
        yield return new("CachedAttention", $"{s.Batch} × 1 new over {cacheLength} of {maxLength}", Attention, NvrtcVariant.None, c =>
        {
            var q = c.Activation(s.Batch * h, 12, 2f);
            var keys = c.Activation(s.Batch * maxLength * kv, 13, 2f); var values = c.Activation(s.Batch * maxLength * kv, 14);
            var mask = c.Ints(Enumerable.Range(0, s.Batch * maxLength).Select(i => i % maxLength >= i / maxLength % 4 * 8 ? 1 : 0)
                                        .ToArray());
            var y = c.Zeros(s.Batch * h);
            return new(() => c.Backend.CachedAttention(q, keys, values, mask, y, s.Batch, 1, cacheLength, maxLength, s.Heads, s.KvHeads,
                                                       hd, 0),
                       () => c.Read(y));
        });
        yield return new("AppendToCache", $"{s.Batch} × 1 × {kv} into {maxLength}", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var newRows = c.Activation(s.Batch * kv, 15); var cache = c.Activation(s.Batch * maxLength * kv, 16);
            return new(() => c.Backend.AppendToCache(newRows, cache, s.Batch, 1, s.Seq, maxLength, kv), () => c.Read(cache));
        });

        yield return new("SiluMulInPlace", mlp, Bf16WithExp, NvrtcVariant.Streaming, c =>
        {
            var gate = c.Activation(t * f, 17, 4f); var up = c.Activation(t * f, 18);
            return new(() => c.Backend.SiluMulInPlace(gate, up, (long)t * f), () => c.Read(gate));
        });
        yield return new("GeluTanhMulInPlace", mlp, Bf16WithExp, NvrtcVariant.None, c =>
        {
            var gate = c.Activation(t * f, 17, 6f); var up = c.Activation(t * f, 18);
            return new(() => c.Backend.GeluTanhMulInPlace(gate, up, (long)t * f), () => c.Read(gate));
        });
        yield return new("ReluInPlace", mlp, new(1.0 / 256, 1e-5), NvrtcVariant.None, c =>
        {
            var x = c.Activation(t * f, 19);
            return new(() => c.Backend.ReluInPlace(x, (long)t * f), () => c.Read(x));
        });
        yield return new("AddInPlace", rows, Bf16Once, NvrtcVariant.Streaming, c =>
        {
            var x = c.Activation(t * h, 20); var y = c.Activation(t * h, 21);
            return new(() => c.Backend.AddInPlace(x, y, (long)t * h), () => c.Read(x));
        });
        yield return new("AddBiasInPlace", rows, Bf16Once, NvrtcVariant.None, c =>
        {
            var x = c.Activation(t * h, 20); var bias = c.Activation(h, 22);
            return new(() => c.Backend.AddBiasInPlace(x, bias, t, h), () => c.Read(x));
        });
        yield return new("ScaleInPlace", rows, Bf16Once, NvrtcVariant.None, c =>
        {
            var x = c.Activation(t * h, 20);
            return new(() => c.Backend.ScaleInPlace(x, 1.0078125f, (long)t * h), () => c.Read(x));
        });
        yield return new("SoftcapInPlace", $"{logits} f32", Fp32Rows, NvrtcVariant.None, c =>
        {
            var x = c.F32(t * v, 23, 40f);
            return new(() => c.Backend.SoftcapInPlace(x, 30f, (long)t * v), () => c.Read(x));
        });
        yield return new("CrossEntropyRows", $"{logits} f32", Fp32Rows, NvrtcVariant.None, c =>
        {
            var x = c.F32(t * v, 24, 8f);
            var targets = c.Ints(Enumerable.Range(0, t).Select(i => i % 9 == 0 ? -100 : i * 31 % v).ToArray());
            var nll = c.Zeros(t, DType.F32);
            return new(() => c.Backend.CrossEntropyRows(x, targets, nll, t, v), () => c.Read(nll));
        });

        yield return new("PerturbedCopy", $"{weight} f32 → compute type", Bf16Once, NvrtcVariant.Streaming, c =>
        {
            var master = c.F32(f * h, 25, 0.05f); var y = c.Zeros(f * h);
            return new(() => c.Backend.PerturbedCopy(master, new Perturbation(0xABCDEFUL, 1e-3f), 7, y, (long)f * h), () => c.Read(y));
        });
        yield return new("ZerothOrderUpdate", $"{weight} f32", Tolerance.Exact, NvrtcVariant.Streaming, c =>
        {
            var master = c.F32(f * h, 25, 0.05f);
            return new(() => c.Backend.ZerothOrderUpdate(master, 99, 4, 5e-3f, 0f, (long)f * h), () => c.Read(master));
        });
        yield return new("FillRandom", $"{weight} f32 Gaussian", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var x = c.Zeros(f * h, DType.F32);
            return new(() => c.Backend.FillRandom(x, RandomFill.Gaussian, 0x5EEDUL, 3, 0f, 0.02f, (long)f * h), () => c.Read(x));
        });

        foreach (var dense in Float64Cases(s)) yield return dense;
        var image = s == HarnessShape.Tiny ? DiffusionShape.Tiny : DiffusionShape.Sd35Large;
        foreach (var diffusion in DiffusionKernelCases.For(image)) yield return diffusion;
    }

    /// <summary>GPTQ's statistics and dense float64 algebra, at the size of one linear's Hessian.</summary>
    static IEnumerable<KernelCase> Float64Cases(HarnessShape s)
    {
        int t = s.Tokens, n = s.Hidden, block = Math.Min(128, n);
        string square = $"{n}×{n}";
        // Entries ~U(-1,1): diagonal sums near t/3 (1,365 at 4096 rows). fp32 sums of t products in another order err by
        // about √t·u·diagonal (5e-3) on every entry, also on the off-diagonal ones that cancel to nearly nothing, so the
        // absolute term is scaled to the diagonal (H100, cuBLAS fp32 against the CPU's: 9.0e-3 at most).
        double gramAbsolute = 2e-5 * t / 3.0;
        yield return new("AccumulateGram", $"{t}×{n}", new(1e-5, gramAbsolute), NvrtcVariant.None, c =>
        {
            var x = c.Activation(t * n, 30); var sum = c.Zeros(n * n, DType.F32);
            // Accumulates: the check reads the first sum; later runs add the same Gram matrix again.
            return new(() => c.Backend.AccumulateGram(x, t, n, sum), () => c.Read(sum));
        }, "cublas");
        yield return new("QuadraticForm", $"{block}×{n} over {square}", new(1e-4, 0), NvrtcVariant.None, c =>
        {
            // fp32 sums of n² products in another order: a relative 1e-4, looser than the unit case's small matrices.
            var hessian = c.F32(n * n, 31); var d = c.F32(block * n, 32);
            double result = 0;
            return new(() => result = c.Backend.QuadraticForm(hessian, d, block, n), () => [result]);
        }, "cublas");
        yield return new("FirstNonFinite", $"{s.Intermediate}×{n} f32", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var values = (float[])CaseInputs.Values(s.Intermediate * n, 33).Clone();
            values[values.Length * 3 / 4] = float.NaN;
            var x = c.F32(values);
            long found = 0;
            return new(() => found = c.Backend.FirstNonFinite(x, values.Length), () => [found]);
        });
        yield return new("CopyMatrix", $"{n - 1}×{n / 2} window of {square} f64", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var source = c.F64(Doubles(n * n, 34)); var destination = c.F64(new double[(n - 1) * (n / 2)]);
            return new(() => c.Backend.CopyMatrix(new MatrixView(source, n + 3, n), MatrixView.Of(destination, n / 2), n - 1, n / 2),
                       () => c.Read(destination));
        });
        yield return new("MatMulF64", $"({block}×{n})ᵀ · {block}×{n}", new(1e-13, 1e-13), NvrtcVariant.None, c =>
        {
            var a = c.F64(Doubles(block * n, 35)); var b = c.F64(Doubles(block * n, 36)); var y = c.F64(Doubles(n * n, 37));
            var original = Doubles(n * n, 37);
            return new(() => c.Backend.MatMulF64(MatrixView.Of(a, n), true, MatrixView.Of(b, n), false, MatrixView.Of(y, n), n, n, block,
                                                 alpha: -1, beta: 1),
                       () => c.Read(y), () => c.Backend.Upload<double>(y, original));
        }, "cublas");
        var spd = DiagonallyDominant(n, 38);
        yield return new("CholeskyLower", $"{square} f64", new(1e-12, 1e-12), NvrtcVariant.None, c =>
        {
            var a = c.F64(spd);
            bool ok = true;
            return new(() => ok = c.Backend.CholeskyLower(a, n),
                       () => ok ? c.Read(a) : throw new InvalidOperationException("not positive definite"),
                       () => c.Backend.Upload<double>(a, spd));
        }, "host+cublas"); // blocked: diagonal blocks factored on the host, panels solved and updated by cuBLAS
        yield return new("InvertLower", $"{square} f64", new(1e-10, 1e-10), NvrtcVariant.None, c =>
        {
            var l = c.F64(spd);
            if (!c.Backend.CholeskyLower(l, n)) throw new InvalidOperationException("not positive definite");
            var inverse = c.F64(new double[n * n]);
            return new(() => c.Backend.InvertLower(l, n, inverse), () => c.Read(inverse));
        }, "cublas");
        yield return new("ReverseInPlace", $"{square} f64", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var x = c.F64(Doubles(n * n, 39));
            return new(() => c.Backend.ReverseInPlace(x, (long)n * n), () => c.Read(x));
        });
    }

    public static double[] Doubles(int count, int seed)
    {
        var random = new Random(seed);
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = random.NextDouble() * 2 - 1;
        return values;
    }

    /// <summary>A symmetric matrix whose diagonal outweighs its row's other entries: positive definite and well conditioned.</summary>
    static double[] DiagonallyDominant(int n, int seed)
    {
        var a = Doubles(n * n, seed);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++) a[i * n + j] = a[j * n + i];
            a[i * n + i] = n + 1;
        }
        return a;
    }
}
