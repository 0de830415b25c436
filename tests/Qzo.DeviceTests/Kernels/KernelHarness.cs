using System.Diagnostics;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;

namespace Qzo.DeviceTests.Kernels;

/// <summary>
/// `qzo-device kernels [--runs N] [--simulate] [FILTER]`: every backend operation and format kernel, in the style of llm.c's
/// dev/cuda (docs/kernels.md §4). For each case: the CPU reference, then each GPU variant (the kernel the backend picks,
/// NVRTC where one serves the operation; and the ILGPU kernel under QZO_KERNELS=ilgpu QZO_ATTENTION=portable where it
/// differs), each checked against the reference and timed (CUDA-synchronized wall time, median of N runs). One row per
/// (operation, variant); a variant that throws or misses its tolerance prints FAIL and the table goes on. The exit code
/// is the number of FAIL rows.
/// </summary>
static class KernelHarness
{
    const string Row = "{0,-26} {1,-40} {2,-9} {3,10} {4,10} {5,-22} {6,-5} {7,11} {8,5}";

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
        var cases = BackendKernelCases.For(shape).Concat(FormatKernelCases.For(shape))
            .Where(c => filter is null || c.Operation.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();

        using var cpu = new CpuBackend();
        using var gpu = simulate ? CudaBackend.CreateCpuSimulation() : CudaBackend.Create();
        using var portable = simulate ? null : CreatePortable();
        Console.WriteLine($"shape: {shape.Name}; {runs} timed runs per GPU variant (median), the CPU reference timed once");
        Console.WriteLine($"gpu: {gpu.Name}");
        Console.WriteLine($"portable: {portable?.Name ?? "none (the default backend is the only GPU variant)"}");
        Console.WriteLine("max rel err: over elements whose reference is at least 1e-3 in magnitude");
        Console.WriteLine(string.Format(Row, "operation", "shape", "variant", "max abs", "max rel", "tolerance", "check", "median ms",
                                        "runs"));

        int failures = 0;
        var missing = Qzo.Tests.Compute.BackendCoverageTests.Operations()
            .Except(BackendKernelCases.For(shape).Concat(FormatKernelCases.For(shape))
                        .Select(c => c.Operation.Contains('.') ? c.Operation : $"IBackend.{c.Operation}"))
            .ToList();
        if (missing.Count > 0)
        {
            failures++;
            Console.WriteLine($"FAIL: no case in the kernel table for {string.Join(", ", missing)}");
        }
        foreach (var kernelCase in cases)
        {
            double[]? expected;
            try
            {
                var (reference, seconds) = Reference(cpu, kernelCase);
                expected = reference;
                Print(kernelCase, "cpu", null, "ref", seconds, 1);
            }
            catch (Exception e)
            {
                failures++;
                Print(kernelCase, "cpu", null, "FAIL", double.NaN, 0);
                Console.WriteLine($"    {Describe(e)}");
                continue;
            }
            foreach (var (label, backend) in Variants(kernelCase, gpu, portable))
            {
                try
                {
                    var (check, seconds) = Measure(backend, kernelCase, expected, runs);
                    if (check is { Passed: false }) failures++;
                    Print(kernelCase, label, check, check is null ? "timed" : check.Value.Passed ? "PASS" : "FAIL", seconds, runs);
                    if (check is { Passed: false }) Console.WriteLine($"    {check.Value.FirstFailure}");
                }
                catch (Exception e)
                {
                    failures++;
                    Print(kernelCase, label, null, "FAIL", double.NaN, 0);
                    Console.WriteLine($"    {Describe(e)}");
                }
            }
        }
        Console.WriteLine($"{cases.Count} operations, {failures} FAIL");
        return failures;
    }

    /// <summary>The backend's own choice, labelled by the kernel that serves it; then the ILGPU kernel where that differs.</summary>
    static IEnumerable<(string Label, IBackend Backend)> Variants(KernelCase kernelCase, CudaBackend gpu, CudaBackend? portable)
    {
        bool nvrtc = kernelCase.Nvrtc switch
        {
            NvrtcVariant.Streaming => gpu.StreamingKernelName.StartsWith("streaming kernels", StringComparison.Ordinal),
            NvrtcVariant.Attention or NvrtcVariant.AttentionGemm =>
                !gpu.AttentionKernelName.StartsWith("portable", StringComparison.Ordinal),
            NvrtcVariant.BiasEpilogue => gpu.BiasEpilogue,
            _ => false,
        };
        string label = kernelCase.Nvrtc is NvrtcVariant.AttentionGemm or NvrtcVariant.BiasEpilogue ? kernelCase.GpuKernel : "nvrtc";
        yield return (nvrtc ? label : gpu.IsCuda ? kernelCase.GpuKernel : "simulated", gpu);
        if (nvrtc && portable is not null) yield return (kernelCase.Nvrtc == NvrtcVariant.BiasEpilogue ? "gemm+bias" : "ilgpu", portable);
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

    /// <summary>One run checked against the reference, then <paramref name="runs"/> timed ones, each between synchronizations.</summary>
    static (ResultCheck? Check, double Seconds) Measure(IBackend backend, KernelCase kernelCase, double[]? expected, int runs)
    {
        using var inputs = new CaseInputs(backend);
        var run = kernelCase.Setup(inputs);
        run.Run();
        backend.Synchronize();
        ResultCheck? check = expected is null || run.Result is null ? null
                             : ResultCheck.Compare(expected, run.Result(), kernelCase.Tolerance);
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
        return (check, runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2);
    }

    static void Print(KernelCase kernelCase, string variant, ResultCheck? check, string verdict, double seconds, int runs) =>
        Console.WriteLine(string.Format(Row, kernelCase.Operation, kernelCase.Shape, variant,
                                        check is { } c ? c.MaxAbs.ToString("0.00e0") : "-",
                                        check is { } r ? r.MaxRel.ToString("0.00e0") : "-",
                                        check is null ? "" : kernelCase.Tolerance.ToString(), verdict,
                                        double.IsNaN(seconds) ? "-" : (seconds * 1e3).ToString("0.000"), runs));

    static string Describe(Exception e) => $"{e.GetBaseException().GetType().Name}: {e.GetBaseException().Message.Split('\n')[0]}";
}
