using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Qzo.Compute;
using Qzo.Compute.Cuda;
using Qzo.Models;
using Qzo.Models.Architectures.Llama;
using Qzo.Training;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>
/// `qzo bench`: a quantized model (GPTQ, AQLM, NF4) of a named shape, synthesized on the device, timed for a forward pass and a
/// full QZO step (median after warm-up), with achieved TFLOP/s and the memory breakdown.
/// </summary>
static class BenchCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = $"Model shape: {string.Join(", ", ModelShapes.All.Keys)}",
            DefaultValueFactory = _ => "tiny" };
        var batch = new Option<int>("--batch") { Description = "Sequences per step", DefaultValueFactory = _ => 16 }.Positive();
        var seq = new Option<int>("--seq") { Description = "Tokens per sequence", DefaultValueFactory = _ => 256 }.AtLeast(2);
        var bits = new Option<int>("--bits") { Description = "GPTQ bits", DefaultValueFactory = _ => 4 }.OneOf(2, 3, 4, 8);
        var groupSize = new Option<int>("--group-size") { Description = "GPTQ group size", DefaultValueFactory = _ => 128 }.GroupSize();
        var format = new Option<string>("--format")
            { Description = "Quantized format of the linears: gptq (--bits, --group-size), aqlm-1x16, aqlm-2x8, nf4",
            DefaultValueFactory = _ => "gptq" };
        var steps = new Option<int>("--steps") { Description = "Timed repetitions (the median is reported)",
            DefaultValueFactory = _ => 5 }.Positive();
        var warmup = new Option<int>("--warmup") { Description = "Untimed repetitions first", DefaultValueFactory = _ => 2 }.NonNegative();
        var peak = new Option<double?>("--peak-tflops")
            { Description =
            "The device's dense bf16 peak, for the utilisation figure (default: 989 for an H100, 1979/2 on H200 likewise)" }.Positive();
        var json = new Option<string?>("--json") { Description = "Write the results as one JSON object" };
        var device = CommonOptions.Device();
        var compute = CommonOptions.Compute();
        var force = CommonOptions.Force();
        var command = new Command("bench",
            "Time a forward pass and a QZO step on a synthesized quantized model (GPTQ, AQLM or NF4) of a named shape; report TFLOP/s " +
            "and memory")
        {
            shape, batch, seq, bits, groupSize, format, steps, warmup, peak, json, device, compute, force,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            var config = ModelShapes.Get(r.GetValue(shape)!);
            var synthetic = SyntheticFormat.Parse(r.GetValue(format)!, r.GetValue(bits), r.GetValue(groupSize));
            int b = r.GetValue(batch), t = r.GetValue(seq), repeat = r.GetValue(steps);
            using var outputs = CommonOptions.Outputs();
            string? jsonPath = outputs.File(r.GetValue(json), "--json", r.GetValue(force));
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!);
            // From the process's start to a backend whose CUDA C modules are loaded (compiled, or read from the kernel cache)
            double startSeconds = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;
            var precision = CommonOptions.Precision(r.GetValue(compute)!, "--compute");
            backend.QuantizedLinearPrecision = precision;
            BenchFootprint.Check(backend, config, synthetic, b, t);
            var load = Stopwatch.StartNew();
            using var model = ProgressDisplay.Run($"synthesizing {r.GetValue(shape)}", report =>
                SyntheticLlama.Create(backend, config, synthetic, seed: 1, TrainingScope.QuantizationScales,
                                      new Progress<double>(f => report(f, null))));
            backend.Synchronize();
            long weightBytes = backend.Memory.CurrentTotal;
            var weightBreakdown = backend.Memory.PeakBreakdown();
            load.Stop();

            var random = new Random(2);
            var sequences = Enumerable.Range(0, b)
                .Select(_ => Enumerable.Range(0, t).Select(_ => random.Next(3, config.VocabSize)).ToArray()).ToList();
            var tokens = TokenBatch.Pad(sequences.Select(s => (s, Enumerable.Repeat(true, s.Length).ToArray())).ToList(), padId: 0);
            var stepper = new ZoStepper(new ParameterTrainableSet(backend, model.Trainable),
                                        new ZoOptions { LearningRate = 1e-7f, Epsilon = 1e-3f, Seed = 3 });

            double? firstRunSeconds = null; // the first forward: ILGPU's kernels compile, cuBLAS picks its algorithms
            double Time(Action action)
            {
                var times = new List<double>();
                for (int i = 0; i < r.GetValue(warmup) + repeat; i++)
                {
                    // The profile keeps only the timed QZO steps: warm-up runs include compiling every kernel.
                    if (i == r.GetValue(warmup)) (backend as CudaBackend)?.Profile?.Clear();
                    backend.Synchronize();
                    var clock = Stopwatch.StartNew();
                    action();
                    backend.Synchronize();
                    firstRunSeconds ??= clock.Elapsed.TotalSeconds;
                    if (i >= r.GetValue(warmup)) times.Add(clock.Elapsed.TotalSeconds);
                }
                return times.Order().ElementAt(times.Count / 2);
            }
            backend.Memory.ResetPeaks();
            double loss = 0;
            double forward = Time(() => loss = model.Loss(tokens, Perturbation.None).Mean);
            int step = 0;
            double stepSeconds = Time(() => stepper.Step(step++, p => model.Loss(tokens, p).Mean));
            double? nativeLoss = null; // fp8's loss beside the native one, at the scales the steps left
            if (precision != LinearPrecision.Native)
            {
                loss = model.Loss(tokens, Perturbation.None).Mean;
                backend.QuantizedLinearPrecision = LinearPrecision.Native;
                nativeLoss = model.Loss(tokens, Perturbation.None).Mean;
                backend.QuantizedLinearPrecision = precision;
            }

            double flops = ModelShapes.ForwardFlops(config, (long)b * t, t);
            double tflops = flops / forward / 1e12;
            double? peakTflops = r.GetValue(peak) ?? DefaultPeak(backend);
            var peakBytes = backend.Memory.PeakBreakdown();
            var driver = (backend as CudaBackend)?.DriverMemory();

            var table = new Table().AddColumns("measure", "value")
                .Title($"{r.GetValue(shape)}, {Markup.Escape(synthetic.Description)}, batch {b} × {t}, {Markup.Escape(backend.Name)}");
            table.AddRow("forward (loss)", $"{forward * 1e3:F1} ms");
            table.AddRow("QZO step (2 forwards + update)", $"{stepSeconds * 1e3:F1} ms");
            table.AddRow("tokens/s (training)", $"{b * t / stepSeconds:N0}");
            table.AddRow("forward TFLOP/s", $"{tflops:G4}" + (peakTflops is double pk ? $" ({tflops / pk:P1} of {pk:F0} bf16 peak)" : ""));
            table.AddRow("weights on device", CommonOptions.Bytes(weightBytes));
            table.AddRow("peak during forward+step (tracked)", CommonOptions.Bytes(peakBytes["Total"]));
            if (driver is var (free, total)) table.AddRow("CUDA driver in use", CommonOptions.Bytes(total - free));
            table.AddRow("compute (quantized linears)", precision.ToString().ToLowerInvariant() +
                (backend.Fp8DeclinedShapes.Count > 0
                    ? $" (declined, native instead: {string.Join(", ", backend.Fp8DeclinedShapes)})" : ""));
            table.AddRow("loss (random weights)", $"{loss:F5}" + (nativeLoss is double n ? $" (native {n:F5})" : ""));
            table.AddRow("synthesis time", $"{load.Elapsed.TotalSeconds:F1} s");
            table.AddRow("start-up (process start → backend ready)", $"{startSeconds:F2} s");
            table.AddRow("start-up marks (s from process start)",
                         string.Join(", ", StartupMarks.All.Select(m => $"{Markup.Escape(m.Name)} {m.Seconds:F3}")));
            table.AddRow("first forward (kernels compile)", $"{firstRunSeconds ?? 0:F2} s");
            AnsiConsole.Write(table);
            MemoryTable.Print(backend);
            ProfileTable.Print(backend, "timed QZO steps");

            if (jsonPath is not null)
                Qzo.IO.AtomicFile.WriteAllText(jsonPath, new JsonObject
                {
                    ["shape"] = r.GetValue(shape), ["format"] = synthetic.Description,
                    ["bits"] = synthetic is SyntheticFormat.Gptq g ? g.Bits : null,
                        ["group_size"] = synthetic is SyntheticFormat.Gptq gs ? gs.GroupSize : null, ["batch"] = b, ["seq"] = t,
                    ["device"] = backend.Name, ["forward_s"] = forward, ["step_s"] = stepSeconds, ["tokens_per_s"] = b * t / stepSeconds,
                    ["startup_s"] = startSeconds, ["first_forward_s"] = firstRunSeconds,
                    ["startup_marks"] = new JsonArray(StartupMarks.All
                        .Select(m => (JsonNode)new JsonObject { ["mark"] = m.Name, ["s"] = m.Seconds }).ToArray()),
                    ["forward_flops"] = flops, ["tflops"] = tflops, ["peak_tflops"] = peakTflops,
                    ["weight_bytes"] = weightBytes,
                    ["weight_bytes_by_category"] = ToJson(weightBreakdown),
                    ["peak_bytes"] = ToJson(peakBytes),
                    ["driver_used_bytes"] = driver is var (f2, t2) ? t2 - f2 : null,
                    ["loss"] = loss, ["loss_native"] = nativeLoss, ["repetitions"] = repeat,
                    ["compute"] = precision.ToString().ToLowerInvariant(),
                    ["fp8_declined_shapes"] = new JsonArray(backend.Fp8DeclinedShapes.Select(shape => (JsonNode)shape).ToArray()),
                }.ToJsonString(new() { WriteIndented = true }) + "\n");
        }));
        return command;
    }

    static JsonObject ToJson(IReadOnlyDictionary<string, long> bytes) =>
        new(bytes.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));

    static double? DefaultPeak(IBackend backend) =>
        backend.Name.Contains("H100") ? 989.4 : backend.Name.Contains("H200") ? 989.4 : null;
}
