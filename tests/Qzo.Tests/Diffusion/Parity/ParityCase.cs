using Qzo.IO;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// One recorded case of tests/fixtures/sd3 (tests/oracle/sd3_reference.py: diffusers v0.39.0, transformers 5.17): its
/// model/ folder, the tensors of io.safetensors, and the tolerance its dtype sets (fp32 1e-4, bf16 2e-2 of max |reference|).
/// </summary>
sealed class ParityCase : IDisposable
{
    readonly SafetensorsFile io;
    readonly ITestOutputHelper output;
    readonly HashSet<string> checkedOutputs = [];
    readonly List<string> failures = [];

    ParityCase(string name, ITestOutputHelper output)
    {
        Name = name;
        Folder = Sd3Fixtures.Case(name);
        this.output = output;
        io = SafetensorsFile.Open(Path.Combine(Folder, "io.safetensors"));
    }

    public static ParityCase Open(string name, ITestOutputHelper output) => new(name, output);

    public string Name { get; }
    public string Folder { get; }
    public string Model => Path.Combine(Folder, "model");
    public double Tolerance => Name.EndsWith("-bf16", StringComparison.Ordinal) ? 2e-2 : 1e-4;
    public IEnumerable<string> Names => io.Tensors.Select(t => t.Name);

    public float[] Floats(string name) => Require(name).ReadFloat32(name);
    public int[] Ints(string name) => Require(name).ReadInt32(name);
    public long[] Shape(string name) => Require(name).Get(name).Shape;

    /// <summary>
    /// Compares one recorded output with ours and remembers that it was checked, and whether it failed:
    /// <see cref="RequireEveryOutputChecked"/> fails on the first failure after every figure is printed.
    /// </summary>
    public void Check(string name, ReadOnlySpan<float> ours)
    {
        if (ParityMetric.Measure($"{Name} {name}", ours, Floats(name), Tolerance, output) is { } failure) failures.Add(failure);
        checkedOutputs.Add(name);
    }

    /// <summary>Compares recorded token ids with ours exactly.</summary>
    public void CheckIds(string name, int[] ours)
    {
        var expected = Ints(name);
        int first = Enumerable.Range(0, Math.Min(ours.Length, expected.Length)).FirstOrDefault(i => ours[i] != expected[i], -1);
        output.WriteLine($"PARITY {Name} {name}: {(first < 0 && ours.Length == expected.Length ? "identical" : "differ")}");
        Assert.True(ours.Length == expected.Length, $"{Name} {name}: {ours.Length} ids, the reference has {expected.Length}");
        Assert.True(first < 0, $"{Name} {name}: id {first} is {(first < 0 ? 0 : ours[first])}, the reference has " +
                               $"{(first < 0 ? 0 : expected[first])}");
        checkedOutputs.Add(name);
    }

    /// <summary>Fails unless every tensor of io.safetensors other than <paramref name="inputs"/> was checked, and passed.</summary>
    public void RequireEveryOutputChecked(params string[] inputs)
    {
        Assert.True(failures.Count == 0, string.Join("; ", failures));
        var missed = Names.Except(inputs).Except(checkedOutputs).Order(StringComparer.Ordinal).ToList();
        Assert.True(missed.Count == 0, $"{Name}: recorded outputs not compared: {string.Join(", ", missed)}");
    }

    SafetensorsFile Require(string name)
    {
        Assert.True(io.Contains(name), $"{io.Path}: no tensor '{name}'");
        return io;
    }

    public void Dispose() => io.Dispose();
}
