using System.Runtime.InteropServices;
using Qzo.IO;
using Qzo.Numerics;

namespace Qzo.Diffusion.Data;

/// <summary>One tensor of every item in a <see cref="BatchedTensorFile"/>: its name suffix, stored dtype and shape.</summary>
public sealed record TensorPart(string Name, DType DType, long[] Shape);

/// <summary>
/// Writes a safetensors file of many items computed in batches, holding only one batch: tensor "{item:D8}.{part}" per item
/// and part. The writer asks for the tensors in name order, which is item order (the names start with the zero-padded
/// index, and all parts share one dtype), so each batch is computed once, when its first item is reached.
/// </summary>
static class BatchedTensorFile
{
    /// <param name="compute">(first item, count) → values[item in batch][part], fp32, stored in each part's dtype.</param>
    /// <param name="itemsDone">called after each batch with the items done so far.</param>
    public static void Write(string path, int items, int batchSize, IReadOnlyList<TensorPart> parts,
                             Func<int, int, float[][][]> compute, Action<int>? itemsDone = null)
    {
        if (parts.Select(p => p.DType).Distinct().Count() != 1) throw new ArgumentException("all parts must share one dtype");
        int batchStart = -1;
        float[][][] batch = [];
        var tensors = new List<LazyTensorToWrite>(items * parts.Count);
        for (int i = 0; i < items; i++)
            for (int p = 0; p < parts.Count; p++)
            {
                int item = i, part = p;
                tensors.Add(new LazyTensorToWrite(ImageCaptionCacheManifest.TensorName(item, parts[part].Name), parts[part].DType,
                                                  parts[part].Shape, () => Bytes(Values(item)[part], parts[part].DType)));
            }
        SafetensorsWriter.WriteLazily(path, tensors);

        float[][] Values(int item)
        {
            if (item < batchStart) throw new InvalidOperationException($"{path}: item {item} asked for after item {batchStart}");
            if (item >= batchStart + batch.Length)
            {
                if (batchStart >= 0) itemsDone?.Invoke(batchStart + batch.Length);
                batchStart = item;
                batch = compute(item, Math.Min(batchSize, items - item));
                if (item + batch.Length == items) itemsDone?.Invoke(items);
            }
            return batch[item - batchStart];
        }
    }

    static ReadOnlyMemory<byte> Bytes(float[] values, DType dtype) =>
        dtype == DType.F32 ? MemoryMarshal.AsBytes(values.AsSpan()).ToArray() : DTypes.FromSingle(dtype, values);
}
