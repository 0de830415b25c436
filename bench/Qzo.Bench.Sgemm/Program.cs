// GFLOP/s of Sgemm.MatMulTransposedB and Sgemm.MatMul, best of N timed runs after warm-up.
// Usage: dotnet run -c Release --project bench/Qzo.Bench.Sgemm [-- repeats [MxNxK ...]]
using System.Diagnostics;
using System.Runtime.Intrinsics;
using Qzo.Compute.Cpu;

int repeats = args.Length > 0 ? int.Parse(args[0]) : 7;
(int M, int N, int K)[] shapes = args.Length > 1
    ? args[1..].Select(ParseShape).ToArray()
    : [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (1024, 688, 256)];

Console.WriteLine($"{Environment.ProcessorCount} cores, Vector512 accelerated: {Vector512.IsHardwareAccelerated}, best of {repeats}");
Console.WriteLine($"{"m×n×k",-16} {"MatMulTransposedB",18} {"MatMul",10}   GFLOP/s");
foreach (var (m, n, k) in shapes)
{
    var rng = new Random(1);
    var a = RandomArray(rng, m * k);
    var b = RandomArray(rng, n * k);
    var c = new float[m * n];
    double t = Best(() => Sgemm.MatMulTransposedB(a, b, c, m, n, k), m, n, k, repeats);
    double p = Best(() => Sgemm.MatMul(a, b, c, m, n, k), m, n, k, repeats);
    Console.WriteLine($"{$"{m}×{n}×{k}",-16} {t,18:F1} {p,10:F1}");
}

static (int, int, int) ParseShape(string text)
{
    var parts = text.Split('x', '×').Select(int.Parse).ToArray();
    return (parts[0], parts[1], parts[2]);
}

static float[] RandomArray(Random rng, int length)
{
    var x = new float[length];
    for (int i = 0; i < length; i++) x[i] = rng.NextSingle() * 2 - 1;
    return x;
}

static double Best(Action run, int m, int n, int k, int repeats)
{
    double flops = 2.0 * m * n * k;
    // Warm up for ~0.3 s (and at least 3 runs) so tiered compilation and the thread pool have settled.
    var warm = Stopwatch.StartNew();
    for (int i = 0; i < 3 || warm.ElapsedMilliseconds < 300; i++) run();
    // Each sample times enough back-to-back calls to last ~20 ms, so small shapes are not timer noise.
    var once = Stopwatch.StartNew(); run();
    int calls = Math.Max(1, (int)(0.02 / Math.Max(once.Elapsed.TotalSeconds, 1e-7)));
    double best = double.MaxValue;
    for (int r = 0; r < repeats; r++)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++) run();
        best = Math.Min(best, sw.Elapsed.TotalSeconds / calls);
    }
    return flops / best / 1e9;
}
