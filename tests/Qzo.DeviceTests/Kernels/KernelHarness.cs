using System.Diagnostics;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;

namespace Qzo.DeviceTests.Kernels;

/// <summary>
/// `qzo-device kernels [--runs N] [--simulate] [FILTER]`: every backend operation and format kernel, in the style of llm.c's
/// dev/cuda (docs/kernels.md §4). For each case: the CPU reference, then each GPU variant (the kernel the backend picks,
/// NVRTC where one serves the operation; and the ILGPU kernel under QZO_KERNELS=ilgpu QZO_ATTENTION=portable where it
/// differs), each checked against the reference and timed (CUDA-synchronized wall time, median of N runs). A case that
/// names its own GPU variants (the GPTQ products) runs those instead, against a GPU reference where it says so, and may
/// print TFLOP/s and, after the table, its fastest passing variant as an entry of a measured table. One row per
/// (operation, variant); a variant that throws or misses its tolerance prints FAIL and the table goes on. The exit code
/// is the number of FAIL rows.
/// </summary>
static class KernelHarness
{
    const string Row = "{0,-26} {1,-40} {2,-14} {3,10} {4,10} {5,-22} {6,-5} {7,11} {8,5} {9,8}";

    public static int Run(string[] args)
    {
        bool simulate = args.Contains("--simulate");
        int runs = 20;
        int runsAt = Array.IndexOf(args, "--runs");
        if (runsAt >= 0 && (runsAt + 1 >= args.Length || !int.TryParse(args[runsAt + 1], out runs) || runs < 1))
        {
            Console.Error.WriteLine("--runs takes a positive count");
            return 2;
        }
        string? filter = args.Where((a, i) => !a.StartsWith("--") && (runsAt < 0 || i != runsAt + 1)).FirstOrDefault();
        var shape = simulate ? HarnessShape.Tiny : HarnessShape.Llama2_7B;
        var cases = BackendKernelCases.For(shape).Concat(FormatKernelCases.For(shape)).Concat(GptqFusedCases.For(shape))
            .Where(c => filter is null || c.Operation.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();

        using var cpu = new CpuBackend();
        using var gpu = simulate ? CudaBackend.CreateCpuSimulation() : CudaBackend.Create();
        using var portable = simulate ? null : CreatePortable();
        Console.WriteLine($"shape: {shape.Name}; {runs} timed runs per GPU variant (median), the CPU reference timed once");
        Console.WriteLine($"gpu: {gpu.Name}");
        Console.WriteLine($"portable: {portable?.Name ?? "none (the default backend is the only GPU variant)"}");
        Console.WriteLine("max rel err: over elements whose reference is at least 1e-3 in magnitude");
        Console.WriteLine(string.Format(Row, "operation", "shape", "variant", "max abs", "max rel", "tolerance", "check", "median ms",
                                        "runs", "TFLOP/s"));

        int failures = 0;
        (string Label, double Seconds)? best;
        var missing = Qzo.Tests.Compute.BackendCoverageTests.Operations()
            .Except(BackendKernelCases.For(shape).Concat(FormatKernelCases.For(shape)).Concat(GptqFusedCases.For(shape))
                        .Select(c => c.Operation.Contains('.') ? c.Operation : $"IBackend.{c.Operation}"))
            .ToList();
        if (missing.Count > 0)
        {
            failures++;
            Console.WriteLine($"FAIL: no case in the kernel table for {string.Join(", ", missing)}");
        }
        var table = new List<string>();
        foreach (var kernelCase in cases)
        {
            var variants = Variants(kernelCase, gpu, portable).ToList();
            double[]? expected;
            try
            {
                if (kernelCase.GpuReference)
                {
                    var first = variants[0];
                    variants.RemoveAt(0);
                    var (result, seconds) = Measure(first.Backend, first.Setup, runs);
                    expected = result;
                    Print(kernelCase, first.Label, null, "ref", seconds, runs);
                    best = first.Candidate ? (first.Label, seconds) : null;
                }
                else
                {
                    var (reference, seconds) = Reference(cpu, kernelCase);
                    expected = reference;
                    Print(kernelCase, "cpu", null, "ref", seconds, 1);
                    best = null;
                }
            }
            catch (Exception e)
            {
                failures++;
                Print(kernelCase, kernelCase.GpuReference ? "gpu" : "cpu", null, "FAIL", double.NaN, 0);
                Console.WriteLine($"    {Describe(e)}");
                continue;
            }
            foreach (var (label, backend, setup, candidate) in variants)
            {
                try
                {
                    var (result, seconds) = Measure(backend, setup, runs);
                    ResultCheck? check = expected is null || result is null ? null
                                         : ResultCheck.Compare(expected, result, kernelCase.Tolerance);
                    if (check is { Passed: false }) failures++;
                    Print(kernelCase, label, check, check is null ? "timed" : check.Value.Passed ? "PASS" : "FAIL", seconds, runs);
                    if (check is { Passed: false }) Console.WriteLine($"    {check.Value.FirstFailure}");
                    else if (candidate && (best is null || seconds < best.Value.Seconds)) best = (label, seconds);
                }
                catch (Exception e)
                {
                    failures++;
                    Print(kernelCase, label, null, "FAIL", double.NaN, 0);
                    Console.WriteLine($"    {Describe(e)}");
                }
            }
            if (kernelCase.TableEntry is not null && best is not null) table.Add(kernelCase.TableEntry(best.Value.Label));
        }
        if (table.Count > 0)
            Console.WriteLine($"fastest passing candidate per shape, as table entries:\n    {string.Join(",\n    ", table)}");
        Console.WriteLine($"{cases.Count} operations, {failures} FAIL");
        return failures;
    }

    /// <summary>
    /// The case's own GPU variants where it names them; else the backend's own choice, labelled by the kernel that serves it,
    /// then the ILGPU kernel where that differs.
    /// </summary>
    static IEnumerable<(string Label, IBackend Backend, Func<CaseInputs, CaseRun> Setup, bool Candidate)> Variants(KernelCase kernelCase,
        CudaBackend gpu, CudaBackend? portable)
    {
        if (kernelCase.GpuVariants is { } own)
        {
            foreach (var v in own) yield return (v.Label, gpu, v.Setup, v.Candidate);
            yield break;
        }
        bool nvrtc = kernelCase.Nvrtc switch
        {
            NvrtcVariant.Streaming => gpu.StreamingKernelName.StartsWith("streaming kernels", StringComparison.Ordinal),
            NvrtcVariant.Attention or NvrtcVariant.AttentionGemm =>
                !gpu.AttentionKernelName.StartsWith("portable", StringComparison.Ordinal),
            NvrtcVariant.BiasEpilogue => gpu.BiasEpilogue,
            _ => false,
        };
        string label = kernelCase.Nvrtc is NvrtcVariant.AttentionGemm or NvrtcVariant.BiasEpilogue ? kernelCase.GpuKernel : "nvrtc";
        yield return (nvrtc ? label : gpu.IsCuda ? kernelCase.GpuKernel : "simulated", gpu, kernelCase.Setup, true);
        if (nvrtc && portable is not null)
            yield return (kernelCase.Nvrtc == NvrtcVariant.BiasEpilogue ? "gemm+bias" : "ilgpu", portable, kernelCase.Setup, true);
    }

    /// <summary>A second CUDA backend with the NVRTC kernels switched off, as QZO_KERNELS=ilgpu QZO_ATTENTION=portable do.</summary>
    static CudaBackend? CreatePortable()
    {
        string? kernels = Environment.GetEnvironmentVariable("QZO_KERNELS");
        string? attention = Environment.GetEnvironmentVariable("QZO_ATTENTION");
        try
        {
            Environment.SetEnvironmentVariable("QZO_KERNELS", "ilgpu");
            Environment.SetEnvironmentVariable("QZO_ATTENTION", "portable");
            return CudaBackend.Create();
        }
        catch (Exception e)
        {
            Console.WriteLine($"no portable variant: {Describe(e)}");
            return null;
        }
        finally
        {
            Environment.SetEnvironmentVariable("QZO_KERNELS", kernels);
            Environment.SetEnvironmentVariable("QZO_ATTENTION", attention);
        }
    }

    static (double[]? Result, double Seconds) Reference(CpuBackend cpu, KernelCase kernelCase)
    {
        using var inputs = new CaseInputs(cpu);
        var run = kernelCase.Setup(inputs);
        var clock = Stopwatch.StartNew();
        run.Run();
        double seconds = clock.Elapsed.TotalSeconds;
        return (run.Result?.Invoke(), seconds);
    }

    /// <summary>One run whose result is kept, then <paramref name="runs"/> timed ones between synchronizations (their median).</summary>
    static (double[]? Result, double Seconds) Measure(IBackend backend, Func<CaseInputs, CaseRun> setup, int runs)
    {
        using var inputs = new CaseInputs(backend);
        var run = setup(inputs);
        run.Run();
        backend.Synchronize();
        var result = run.Result?.Invoke();
        var times = new double[runs];
        var clock = new Stopwatch();
        for (int i = 0; i < runs; i++)
        {
            run.Reset?.Invoke();
            backend.Synchronize();
            clock.Restart();
            run.Run();
            backend.Synchronize();
            times[i] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return (result, runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2);
    }

    static void Print(KernelCase kernelCase, string variant, ResultCheck? check, string verdict, double seconds, int runs) =>
        Console.WriteLine(string.Format(Row, kernelCase.Operation, kernelCase.Shape, variant,
                                        check is { } c ? c.MaxAbs.ToString("0.00e0") : "-",
                                        check is { } r ? r.MaxRel.ToString("0.00e0") : "-",
                                        check is null ? "" : kernelCase.Tolerance.ToString(), verdict,
                                        double.IsNaN(seconds) ? "-" : (seconds * 1e3).ToString("0.000"), runs,
                                        kernelCase.Flops > 0 && seconds > 0 ? (kernelCase.Flops / seconds / 1e12).ToString("0.0") : "-"));

    static string Describe(Exception e) => $"{e.GetBaseException().GetType().Name}: {e.GetBaseException().Message.Split('\n')[0]}";
}
