using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Models;

/// <summary>
/// What `qzo synth` will write and hold, from the options alone, in double (no shape can overflow it): the tensors'
/// bytes, a lower bound of the safetensors header, and the largest single tensor. <see cref="ModelSynthesizer"/> checks these
/// against the disk, the memory and its one-array-per-tensor limit before anything is created.
/// </summary>
public sealed record SynthFootprint(double TensorBytes, double TensorCount, double LargestTensorElements, string LargestTensorName)
{
    /// <summary>
    /// A safetensors header entry is at least this long besides the tensor's name ({"dtype":..,"shape":[..],"data_offsets":[..]}).
    /// </summary>
    const int MinHeaderEntryBytes = 50;

    /// <summary>Lower bound of model.safetensors' size (tensor bytes plus the shortest possible header).</summary>
    public double FileBytes => TensorBytes + HeaderBytes;

    public double HeaderBytes => TensorCount * MinHeaderEntryBytes;

    /// <summary>
    /// Lower bound of the synthesizer's peak: every tensor is held until the file is written, and the largest is first drawn as
    /// fp32 then converted, so both copies exist at once.
    /// </summary>
    public double MemoryBytes(DType dtype) => Math.Max(TensorBytes, LargestTensorElements * (4 + dtype.SizeInBytes()));

    /// <summary>
    /// Lower bounds of tokenizer.json per token: on disk, an entry like <c>"&lt;extra_9&gt;": 9999,</c> on its own line; in memory,
    /// that as UTF-8 bytes and again as a UTF-16 string.
    /// </summary>
    const int TokenizerBytesPerToken = 16, TokenizerMemoryPerToken = 3 * TokenizerBytesPerToken;

    /// <summary>Refuses, in one line naming the figures, a checkpoint the disk, the memory or one array could not hold.</summary>
    public static void Check(string output, SynthOptions o)
    {
        var f = Of(o);
        double tokenizerBytes = (double)o.Vocab * TokenizerBytesPerToken;
        ResourceBudget.RequireDisk("synth", "the checkpoint", output, f.FileBytes + tokenizerBytes);
        ResourceBudget.RequireHostMemory("synth", "writing the checkpoint",
            f.MemoryBytes(o.DType) + (double)o.Vocab * TokenizerMemoryPerToken);
        if (f.HeaderBytes > SafetensorsHeader.MaxHeaderLength)
            throw new QzoException($"synth: {f.TensorCount} tensors (--layers {o.Layers}) need a safetensors header of at least " +
                                   $"{ByteSize.Text(f.HeaderBytes)}, over the {ByteSize.Text(SafetensorsHeader.MaxHeaderLength)} readers " +
                                   "accept");
        double largestBytes = f.LargestTensorElements * o.DType.SizeInBytes();
        if (largestBytes > Array.MaxLength)
            throw new QzoException($"synth: tensor '{f.LargestTensorName}' would take {ByteSize.Text(largestBytes)}, but the synthesizer " +
                                   $"holds each tensor in one array of at most {ByteSize.Text(Array.MaxLength)}");
        if (tokenizerBytes > MaxStringLength)
            throw new QzoException($"synth: --vocab {o.Vocab} makes tokenizer.json at least {ByteSize.Text(tokenizerBytes)}, " +
                                   $"but it is built as one string of at most {ByteSize.Text(MaxStringLength)} characters");
    }

    /// <summary>The longest .NET string (characters).</summary>
    const int MaxStringLength = 0x3FFFFFDF;

    public static SynthFootprint Of(SynthOptions o)
    {
        var tensors = o.Architecture.Synthesis.Footprint(o);
        double bytesPerElement = o.DType.SizeInBytes(), elements = 0, count = 0;
        var largest = ("", 0.0);
        foreach (var (name, rows, columns, repeat) in tensors)
        {
            double size = rows * columns;
            elements += size * repeat;
            count += repeat;
            if (size > largest.Item2) largest = (name, size);
        }
        return new SynthFootprint(elements * bytesPerElement, count, largest.Item2, largest.Item1);
    }

    /// <summary><see cref="SynthOptions.ResolvedIntermediate"/> without int arithmetic.</summary>
    public static double Intermediate(SynthOptions o) => o.Intermediate ?? o.Architecture.Synthesis.DefaultIntermediate(o.Hidden);
}
