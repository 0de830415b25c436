using Qzo.Compute;
using Qzo.Numerics;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Aqlm.Kernels;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Bnb.Kernels;
using Qzo.Quantization.Gptq;
using Qzo.Quantization.Gptq.Kernels;

namespace Qzo.DeviceTests.Kernels;

/// <summary>
/// One case per registered format kernel (IGptqKernels, IAqlmKernels, IBnb4BitKernels) on a 7B MLP or attention weight,
/// with the tolerances of the unit cases in tests/Qzo.Tests/Compute (GpuKernelTests, GpuGptqStepTests).
/// </summary>
static class FormatKernelCases
{
    static readonly Tolerance Dequantized = new(1.0 / 256, 1e-6); // the fp32 product, rounded once to bf16

    public static IEnumerable<KernelCase> For(HarnessShape s)
    {
        int inF = s.Hidden, outF = s.Intermediate;
        var p = new Perturbation(5, 1e-3f);

        const int bits = 4;
        int groupSize = Math.Min(128, inF), groups = inF / groupSize;
        string gptq = $"{outF}×{inF}, {bits}-bit, group {groupSize}";
        yield return new("IGptqKernels.Dequantize", gptq, Dequantized, NvrtcVariant.Streaming, c =>
        {
            var random = new Random(40);
            int[] Words(int count) => Enumerable.Range(0, count).Select(_ => random.Next() ^ (random.Next() << 16)).ToArray();
            var qweight = c.Ints(Words(inF * bits / 32 * outF));
            var qzeros = c.Ints(Words(groups * outF * bits / 32));
            var gIdx = c.Ints(Enumerable.Range(0, inF).Select(i => i / groupSize).ToArray());
            var scales = c.F32(Enumerable.Range(0, groups * outF).Select(i => 0.001f + i % 97 * 1e-4f).ToArray());
            var weight = c.Zeros(inF * outF);
            var shape = new GptqKernelShape(inF, outF, groups, bits, ZerosOffsetByOne: false);
            return new(() => GptqKernels.For(c.Backend).Dequantize(qweight, qzeros, scales, gIdx, shape, p, 3, weight),
                       () => c.Read(weight));
        });

        foreach (var solver in GptqSolverCases(s)) yield return solver;

        foreach (var scheme in new[] { new AqlmScheme(1, 16, 8, 1), new AqlmScheme(2, 8, 8, 1) })
            yield return new("IAqlmKernels.Dequantize", $"{inF}×{inF}, {scheme.Name}", new(1.0 / 256, 0), NvrtcVariant.Streaming, c =>
            {
                var shape = new AqlmKernelShape(inF, inF, scheme.Codebooks, scheme.CodebookBits, scheme.InGroupSize, scheme.OutGroupSize);
                var codeBytes = new byte[shape.OutGroups * shape.InGroups * shape.Codebooks * shape.BytesPerCode];
                new Random(41).NextBytes(codeBytes); // any bits: codes are read modulo 2^bits
                var codes = c.Bytes(codeBytes, scheme.CodeDType);
                int bookLength = scheme.Codebooks * scheme.CodebookSize * scheme.OutGroupSize * scheme.InGroupSize;
                var books = c.Write(c.Zeros(bookLength, DType.F16), CaseInputs.Values(bookLength, 42, 0.3f));
                var scales = c.F32(Enumerable.Range(0, shape.OutGroups).Select(i => 0.5f + i % 13 * 0.01f).ToArray());
                var weight = c.Zeros(inF * inF);
                return new(() => AqlmKernels.For(c.Backend).Dequantize(codes, books, scales, shape, p, 2, weight), () => c.Read(weight));
            });

        const int blockSize = 64;
        yield return new("IBnb4BitKernels.Dequantize", $"{outF}×{inF}, NF4, block {blockSize}", new(1.0 / 256, 0), NvrtcVariant.Streaming,
            c =>
        {
            var shape = new Bnb4BitKernelShape(outF, inF, blockSize);
            var packedBytes = new byte[shape.Count / 2];
            new Random(43).NextBytes(packedBytes);
            var packed = c.Bytes(packedBytes, DType.U8);
            var code = c.F32(FourBitCode.For(FourBitType.Nf4).Values.ToArray());
            var absmax = c.F32(Enumerable.Range(0, (int)shape.Blocks).Select(i => 0.01f + i % 31 * 0.002f).ToArray());
            var weight = c.Zeros(outF * inF);
            return new(() => Bnb4BitKernels.For(c.Backend).Dequantize(packed, code, absmax, shape, p, 4, weight), () => c.Read(weight));
        });
    }

    /// <summary>GPTQ's solver steps for one hidden×hidden linear (q_proj): gathers and grids exact, the column loop to 1e-12.</summary>
    static IEnumerable<KernelCase> GptqSolverCases(HarnessShape s)
    {
        int n = s.Hidden, rows = s.Hidden, width = Math.Min(128, n);
        var order = Enumerable.Range(0, n).Select(i => (int)((i * 2654435761L + 11) % n)).ToArray();
        if (order.Distinct().Count() != n) order = Enumerable.Range(0, n).Reverse().ToArray();
        var dead = Enumerable.Range(0, n).Select(i => i % 997 == 5 ? 1 : 0).ToArray();
        var shape = new GptqStepShape(rows, n, GroupSize: Math.Min(128, n), Bits: 4, Sym: false);
        string square = $"{rows}×{n}";

        yield return new("IGptqKernels.Hessian", $"{n}×{n}", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var sum = c.F32(n * n, 44, 3f); var inputs = c.Ints(order); var isDead = c.Ints(dead); var h = c.F64(new double[n * n]);
            return new(() => GptqKernels.For(c.Backend).Hessian(sum, inputs, isDead, n, 0.25, h), () => c.Read(h));
        });
        yield return new("IGptqKernels.Weights", square, Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var weight = c.F32(rows * n, 45); var inputs = c.Ints(order); var isDead = c.Ints(dead); var w = c.F64(new double[rows * n]);
            return new(() => GptqKernels.For(c.Backend).Weights(weight, inputs, isDead, rows, n, w), () => c.Read(w));
        });
        yield return new("IGptqKernels.Grids", $"{square}, group {shape.GroupSize}, 4-bit", Tolerance.Exact, NvrtcVariant.None, c =>
        {
            var weight = c.F32(rows * n, 45, 0.2f); var isDead = c.Ints(dead);
            var scales = c.Zeros(shape.Groups * rows, DType.F32); var zeros = c.Ints(new int[shape.Groups * rows]);
            var status = c.Ints([int.MaxValue]);
            return new(() => GptqKernels.For(c.Backend).Grids(weight, isDead, shape, zeroDead: true, scales, zeros, status),
                       () => [.. c.Read(scales), .. c.Read(zeros), .. c.Read(status)]);
        });
        yield return new("IGptqKernels.Block", $"{square}, columns 0–{width - 1}, grids found", new(1e-12, 1e-12), NvrtcVariant.None, c =>
        {
            var w = c.F64(CaseInputs.Values(rows * n, 45, 0.2f).Select(v => (double)v).ToArray());
            var u = c.F64(UpperFactor(n, 46));
            var inputs = c.Ints(order); var groupOf = c.Ints(Enumerable.Range(0, n).Select(j => j / shape.GroupSize).ToArray());
            var scales = c.Zeros(shape.Groups * rows, DType.F32); var zeros = c.Ints(new int[shape.Groups * rows]);
            var codes = c.Ints(new int[n * rows]); var err = c.F64(new double[width * rows]); var status = c.Ints([int.MaxValue]);
            return new(() => GptqKernels.For(c.Backend).Block(w, u, inputs, groupOf, shape, 0, width, findGrids: true, scales, zeros, codes,
                                                              err, status),
                       () => [.. c.Read(codes), .. c.Read(err), .. c.Read(scales)]);
        });
    }

    /// <summary>An upper-triangular factor with a unit-sized diagonal, like the inverse Cholesky factor the column loop reads.</summary>
    static double[] UpperFactor(int n, int seed)
    {
        var random = new Random(seed);
        var u = new double[(long)n * n];
        for (int i = 0; i < n; i++)
        {
            u[(long)i * n + i] = 0.5 + random.NextDouble();
            for (int j = i + 1; j < n; j++) u[(long)i * n + j] = (random.NextDouble() - 0.5) * 0.2 / Math.Sqrt(n);
        }
        return u;
    }
}
