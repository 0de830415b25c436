using Qzo.Compute;
using Qzo.Diffusion.Vae;
using Qzo.IO;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// One case of the SD3.5 parity fixtures (tests/fixtures/sd3/CASE.tar.gz, unpacked by <see cref="Sd3Fixtures"/>): its
/// folder, model/ (what diffusers or transformers saved) and io.safetensors (inputs and recorded outputs, floats as F32,
/// token ids as I32; tests/oracle/sd3_reference.py names every tensor). fp32 cases ran in IEEE fp32 on the CPU and are
/// held to 1e-4 of the largest reference value; bf16 cases ran in bf16 on CUDA and are held to 2e-2.
/// </summary>
sealed class Sd3ParityCase : IDisposable
{
    public const double Fp32Tolerance = 1e-4, Bf16Tolerance = 2e-2;

    Sd3ParityCase(string name, string folder)
    {
        Name = name;
        Folder = folder;
        string io = Path.Combine(folder, "io.safetensors");
        Assert.True(File.Exists(io), $"{io} is missing: the case {name} holds no recorded inputs and outputs");
        Io = SafetensorsFile.Open(io);
    }

    public string Name { get; }
    public string Folder { get; }
    public SafetensorsFile Io { get; }
    public string Model => Path.Combine(Folder, "model");
    public bool IsBf16 => Name.EndsWith("-bf16", StringComparison.Ordinal);
    public double Tolerance => IsBf16 ? Bf16Tolerance : Fp32Tolerance;

    public static Sd3ParityCase Open(string name) => new(name, Sd3Fixtures.Case(name));

    public float[] Floats(string tensor)
    {
        Assert.True(Io.Contains(tensor), $"{Io.Path}: no recorded tensor '{tensor}'");
        return Io.ReadFloat32(tensor);
    }

    public int[] Ints(string tensor)
    {
        Assert.True(Io.Contains(tensor), $"{Io.Path}: no recorded tensor '{tensor}'");
        return Io.ReadInt32(tensor);
    }

    public long[] Shape(string tensor)
    {
        Assert.True(Io.Contains(tensor), $"{Io.Path}: no recorded tensor '{tensor}'");
        return Io.Get(tensor).Shape;
    }

    public ImageShape ImageShapeOf(string tensor)
    {
        var s = Shape(tensor);
        Assert.True(s.Length == 4, $"{Io.Path}: '{tensor}' has {s.Length} dimensions, not [B, C, H, W]");
        return new ImageShape((int)s[0], (int)s[1], (int)s[2], (int)s[3]);
    }

    /// <summary>Checks <paramref name="ours"/> against the recorded <paramref name="tensor"/> at this case's tolerance.</summary>
    public double Check(string tensor, ReadOnlySpan<float> ours, ITestOutputHelper output, double? tolerance = null) =>
        Sd3Parity.Check($"{Name} {tensor}", ours, Floats(tensor), tolerance ?? Tolerance, output);

    public void Dispose() => Io.Dispose();
}

/// <summary>The parity metric and how a case's inputs travel to and from a backend.</summary>
static class Sd3Parity
{
    /// <summary>max |ours − reference| / max |reference| (0 when both are all zeros; infinite when only the reference is).</summary>
    public static double RelativeError(ReadOnlySpan<float> ours, ReadOnlySpan<float> reference)
    {
        Assert.True(ours.Length == reference.Length, $"{ours.Length} values against the reference's {reference.Length}");
        double scale = 0, error = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(reference[i]));
            double e = Math.Abs((double)ours[i] - reference[i]);
            if (!(e <= error)) error = e; // NaN wins
        }
        return error == 0 ? 0 : error / scale;
    }

    /// <summary>Prints the relative error of <paramref name="what"/> and fails above <paramref name="tolerance"/>.</summary>
    public static double Check(string what, ReadOnlySpan<float> ours, ReadOnlySpan<float> reference, double tolerance,
                               ITestOutputHelper output)
    {
        Assert.True(ours.Length == reference.Length, $"{what}: {ours.Length} values, the reference has {reference.Length}");
        double error = RelativeError(ours, reference), scale = 0;
        foreach (float r in reference) scale = Math.Max(scale, Math.Abs(r));
        output.WriteLine($"{what}: relative error {error:E2} (max |ref| {scale:G4}, tolerance {tolerance:E0})");
        Assert.True(scale > 0, $"{what}: the reference is all zeros, so the comparison would prove nothing");
        Assert.True(error <= tolerance, $"{what}: relative error {error:E3} exceeds {tolerance:E0} (max |ref| {scale:G5})");
        return error;
    }

    /// <summary>Exact equality of integer sequences (token ids), naming the first difference.</summary>
    public static void Same(string what, ReadOnlySpan<int> ours, ReadOnlySpan<int> reference)
    {
        if (ours.SequenceEqual(reference)) return;
        int at = 0;
        while (at < Math.Min(ours.Length, reference.Length) && ours[at] == reference[at]) at++;
        Assert.Fail($"{what}: differs at {at} (ours {ours.Length} ids, reference {reference.Length}): " +
                    $"ours [{string.Join(", ", ours[at..Math.Min(ours.Length, at + 8)].ToArray())}], " +
                    $"reference [{string.Join(", ", reference[at..Math.Min(reference.Length, at + 8)].ToArray())}]");
    }

    /// <summary>A recorded input as a tensor of the backend's compute type (bf16 inputs are already bf16 values).</summary>
    public static DeviceTensor Upload(IBackend backend, float[] values) => HostFloats.Upload(backend, values, MemoryCategory.Activations);
}
