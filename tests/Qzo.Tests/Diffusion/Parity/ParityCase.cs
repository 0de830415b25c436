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

    /// <summary>Compares one recorded output with ours and remembers that it was checked.</summary>
    public void Check(string name, ReadOnlySpan<float> ours)
    {
        ParityMetric.Check($"{Name} {name}", ours, Floats(name), Tolerance, output);
        checkedOutputs.Add(name);
    }

    /// <summary>Fails unless every tensor of io.safetensors other than <paramref name="inputs"/> was checked.</summary>
    public void RequireEveryOutputChecked(params string[] inputs)
    {
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
