using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;
using Qzo.Models;
using Qzo.Models.Architectures.Llama;
using Qzo.Numerics;
using Qzo.Training;
using Xunit.Abstractions;

namespace Qzo.Tests.Compute;

/// <summary>
/// --compute fp8 on the CPU: the product equals a plain double reference over the e4m3-rounded operands, a quantized model's
/// loss moves by fp8's error and no more, and --compare-compute pairs each step's estimates (exactly equal against itself).
/// The GPU's codes and products are checked against this emulation on the device (Fp8DeviceChecks).
/// </summary>
public class Fp8ProductTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    public void ProductIsTheReferenceOverRoundedOperands(bool inputMajor, bool bias, bool accumulate)
    {
        const int m = 5, n = 24, k = 48;
        var random = new Random(3);
        float[] Values(int count, float scale) =>
            Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5) * scale).ToArray();
        var (x, w, b, y0) = (Values(m * k, 3f), Values(n * k, 0.04f), Values(n, 1f), Values(m * n, 1f));
        using var cpu = new CpuBackend();
        using var tx = Upload(cpu, x); using var tw = Upload(cpu, w); using var tb = Upload(cpu, b); using var ty = Upload(cpu, y0);
        Assert.True(cpu.TryMatMulFp8(tx, tw, inputMajor, bias ? tb : null, ty, m, n, k, accumulate));
        var got = new float[m * n]; cpu.Download<float>(ty, got);

        var (invX, scaleX) = Fp8E4M3.Scaling(x.Max(MathF.Abs));
        var (invW, scaleW) = Fp8E4M3.Scaling(w.Max(MathF.Abs));
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                double sum = 0;
                for (int j = 0; j < k; j++)
                    sum += (double)Fp8E4M3.Decode(Fp8E4M3.Encode(x[r * k + j] * invX))
                         * Fp8E4M3.Decode(Fp8E4M3.Encode((inputMajor ? w[j * n + c] : w[c * k + j]) * invW));
                double expected = sum * scaleX * scaleW + (bias ? b[c] : 0) + (accumulate ? y0[r * n + c] : 0);
                Assert.True(Math.Abs(got[r * n + c] - expected) <= 1e-5 * (1 + Math.Abs(expected)),
                            $"[{r}, {c}]: {got[r * n + c]} vs {expected}");
            }
    }

    [Fact]
    public void AQuantizedModelsLossMovesByFp8sErrorOnly()
    {
        using var backend = new CpuBackend();
        using var model = TinyGptqModel(backend);
        var tokens = Tokens(ModelShapes.Get("tiny").VocabSize);
        double native = model.Loss(tokens, Perturbation.None).Mean;
        backend.QuantizedLinearPrecision = LinearPrecision.Fp8;
        double fp8 = model.Loss(tokens, Perturbation.None).Mean;
        output.WriteLine($"tiny GPTQ model: loss native {native:F6}, fp8 {fp8:F6}");
        Assert.NotEqual(native, fp8); // the linears did multiply in fp8
        Assert.True(Math.Abs(fp8 - native) < 0.02 * Math.Abs(native), $"fp8 moved the loss from {native} to {fp8}");
    }

    [Fact]
    public void ComparisonAgainstItsOwnPrecisionAgreesExactly()
    {
        using var backend = new CpuBackend();
        using var model = TinyGptqModel(backend);
        var tokens = Tokens(ModelShapes.Get("tiny").VocabSize);
        var options = new ZoOptions { LearningRate = 1e-4f, Epsilon = 1e-3f, Seed = 3 };
        foreach (var other in new[] { LinearPrecision.Native, LinearPrecision.Fp8 })
        {
            var objective = new ModelObjective(model, tokens);
            var comparison = new PrecisionComparison<int>(objective, backend, other, options.Epsilon);
            var stepper = new ZoStepper(new ParameterTrainableSet(backend, model.Trainable), options);
            var records = Enumerable.Range(0, 4).Select(step => stepper.Step(step, p => comparison.Loss([0], p))).ToList();
            var estimates = comparison.Estimates();
            Assert.Equal(records.Select(r => r.D), estimates.Select(e => e.Run));
            Assert.Equal(LinearPrecision.Native, backend.QuantizedLinearPrecision); // restored after each probe
            var json = comparison.ToJson();
            output.WriteLine($"against {other}: {json["correlation"]}, sign agreement {json["sign_agreement"]}, " +
                             $"d {string.Join(", ", estimates.Select(e => $"{e.Run:G4}/{e.Other:G4}"))}");
            if (other == LinearPrecision.Native)
            {
                Assert.Equal(estimates.Select(e => e.Run), estimates.Select(e => e.Other));
                Assert.Equal(0.0, (double)json["rms_difference_over_rms"]!);
            }
            else Assert.NotEqual(estimates.Select(e => e.Run), estimates.Select(e => e.Other));
        }
    }

    sealed class ModelObjective(CausalLanguageModel model, TokenBatch tokens) : IObjective<int>
    {
        public double Loss(IReadOnlyList<int> batch, Perturbation p) => model.Loss(tokens, p).Mean;
    }

    static CausalLanguageModel TinyGptqModel(CpuBackend backend) =>
        SyntheticLlama.Create(backend, ModelShapes.Get("tiny"), SyntheticFormat.Parse("gptq"), seed: 1, TrainingScope.QuantizationScales);

    static TokenBatch Tokens(int vocab)
    {
        var random = new Random(2);
        var sequences = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, 12).Select(_ => random.Next(3, vocab)).ToArray()).ToList();
        return TokenBatch.Pad(sequences.Select(s => (s, Enumerable.Repeat(true, s.Length).ToArray())).ToList(), padId: 0);
    }

    static DeviceTensor Upload(IBackend backend, float[] values)
    {
        var t = backend.Allocate(DType.F32, values.Length, MemoryCategory.Workspace);
        backend.Upload<float>(t, values);
        return t;
    }
}
