using Qzo.Compute;
using Qzo.Numerics;
using Qzo.Quantization;
using Qzo.Quantization.Aqlm;
using Qzo.Quantization.Bnb;
using Qzo.Quantization.Gptq;

namespace Qzo.Models;

/// <summary>
/// A quantized format in which <see cref="Architectures.Llama.SyntheticLlama"/> makes linears directly on the device, with random codes and
/// plausible scales (weights of roughly 0.02 standard deviation): for timing and memory, never for quality.
/// </summary>
public abstract record SyntheticFormat
{
    public abstract string Description { get; }

    /// <summary>"gptq" (with bits and group size), "aqlm-1x16", "aqlm-2x8", "nf4".</summary>
    public static SyntheticFormat Parse(string name, int bits = 4, int groupSize = 128) => name switch
    {
        "gptq" => new Gptq(bits, groupSize),
        "nf4" => new Nf4(),
        _ when name.StartsWith("aqlm-", StringComparison.Ordinal) => new Aqlm(AqlmScheme.Parse(name["aqlm-".Length..])),
        _ => throw new QzoException($"--format must be gptq, aqlm-1x16, aqlm-2x8 or nf4, got '{name}'"),
    };

    internal abstract ILinear Create(IBackend backend, string prefix, int inFeatures, int outFeatures, ulong seed, int stream);

    static DeviceTensor RandomBytes(IBackend backend, long bytes, ulong seed, int stream)
    {
        long words = (bytes + 3) / 4;
        var t = backend.Allocate(DType.I32, words, MemoryCategory.QuantizedWeights);
        backend.FillRandom(t, RandomFill.Bits, seed, stream, 0, 0, words);
        return t;
    }

    static Parameter Scales(IBackend backend, string name, long[] shape, DType stored, float typical, ulong seed, int stream)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = backend.Allocate(DType.F32, count, MemoryCategory.TrainableScales);
        backend.FillRandom(values, RandomFill.Uniform, seed, stream, 0.5f * typical, 1.5f * typical, count);
        return new Parameter(name, shape, stored, values) { IsQuantizationScale = true };
    }

    static DeviceTensor Upload(IBackend backend, byte[] bytes, DType dtype)
    {
        var t = backend.Allocate(dtype, bytes.Length / dtype.SizeInBytes(), MemoryCategory.QuantizedWeights);
        backend.Upload<byte>(t, bytes);
        return t;
    }

    public sealed record Gptq(int Bits, int GroupSize) : SyntheticFormat
    {
        public override string Description => $"GPTQ {Bits}-bit g{GroupSize}";

        internal override ILinear Create(IBackend backend, string prefix, int inF, int outF, ulong seed, int stream)
        {
            var config = GptqConfig.Create(Bits, GroupSize, sym: true, GptqCheckpointFormat.Gptq);
            int g = config.EffectiveGroupSize(inF), groups = (inF + g - 1) / g;
            var qweight = RandomBytes(backend, (long)inF * Bits / 8 * outF, seed, stream);
            var zeros = GptqPacking.PackQZeros(Enumerable.Repeat(1 << (Bits - 1), groups * outF).ToArray(), groups, outF, Bits,
                config.Format);
            var qzeros = Upload(backend, System.Runtime.InteropServices.MemoryMarshal.AsBytes(zeros.AsSpan()).ToArray(), DType.I32);
            var gIdx = GptqPacking.DefaultGIdx(inF, g);
            var gIdxTensor = Upload(backend, System.Runtime.InteropServices.MemoryMarshal.AsBytes(gIdx.AsSpan()).ToArray(), DType.I32);
            float typical = 0.02f * 2.5f / (1 << (Bits - 1)); // codes span ±2.5 std of a 0.02-std weight
            var scales = Scales(backend, prefix + ".scales", [groups, outF], DType.F16, typical, seed, stream + 1);
            return new GptqLinear(prefix, qweight, qzeros, gIdxTensor, scales, null, new GptqKernelShape(inF, outF, groups, Bits,
                ZerosOffsetByOne: true, SequentialGroupSize: g));
        }
    }

    public sealed record Aqlm(AqlmScheme Scheme) : SyntheticFormat
    {
        public override string Description => $"AQLM {Scheme.Name} (in-group {Scheme.InGroupSize})";

        // One codebook's values, drawn once: every layer gets its own device copy, as a checkpoint would have.
        readonly Lazy<byte[]> _codebook = new(() =>
        {
            var values = new float[(long)Scheme.Codebooks * Scheme.CodebookSize * Scheme.OutGroupSize * Scheme.InGroupSize];
            GaussianDirection.Fill(0xC0DEB00C, 0, 0, values);
            float std = 0.02f / MathF.Sqrt(Scheme.Codebooks);
            return DTypes.FromSingle(DType.F16, values.Select(v => v * std).ToArray());
        });

        internal override ILinear Create(IBackend backend, string prefix, int inF, int outF, ulong seed, int stream)
        {
            var shape = new AqlmKernelShape(outF, inF, Scheme.Codebooks, Scheme.CodebookBits, Scheme.InGroupSize, Scheme.OutGroupSize);
            var codes = RandomBytes(backend, (long)shape.OutGroups * shape.InGroups * shape.Codebooks * shape.BytesPerCode, seed, stream);
            var codebooks = Upload(backend, _codebook.Value, DType.F16);
            var scales = Scales(backend, prefix + ".scales", [shape.OutGroups, 1, 1, 1], DType.F16, 1f, seed, stream + 1);
            return new AqlmLinear(prefix, codes, codebooks, scales, null, shape);
        }
    }

    public sealed record Nf4 : SyntheticFormat
    {
        public override string Description => "bitsandbytes nf4 (block 64)";

        internal override ILinear Create(IBackend backend, string prefix, int inF, int outF, ulong seed, int stream)
        {
            var shape = new Bnb4BitKernelShape(outF, inF, 64);
            var packed = RandomBytes(backend, (shape.Count + 1) / 2, seed, stream);
            var table = Upload(backend, DTypes.FromSingle(DType.F32, FourBitCode.Nf4.Values.ToArray()), DType.F32);
            var absmax = Scales(backend, prefix + Bnb4BitLinearTensors.AbsmaxSuffix, [shape.Blocks], DType.F32, 0.02f * 2.5f, seed,
                stream + 1);
            return new Bnb4BitLinear(prefix, packed, table, absmax, null, shape, FourBitType.Nf4, nested: null);
        }
    }
}
