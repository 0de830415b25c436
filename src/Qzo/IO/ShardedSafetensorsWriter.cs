namespace Qzo.IO;

/// <summary>
/// Writes a model's tensors as save_pretrained does with max_shard_size: one STEM.safetensors when they fit in one
/// shard, else STEM-0000i-of-0000n.safetensors plus STEM.safetensors.index.json (tensors taken in the given order, a
/// new shard started where the next tensor would overflow the current one; a tensor never splits). The stem is
/// "model" for transformers, "diffusion_pytorch_model" for diffusers. Tensors are made one at a time
/// (<see cref="SafetensorsWriter.WriteLazily"/>).
/// </summary>
public static class ShardedSafetensorsWriter
{
    /// <param name="maxShardBytes">Largest shard's tensor bytes; null writes one file whatever the size.</param>
    /// <param name="makeAhead">see <see cref="SafetensorsWriter.WriteLazily"/></param>
    public static void Write(string folder, string stem, IReadOnlyList<LazyTensorToWrite> tensors, long? maxShardBytes,
                             IReadOnlyDictionary<string, string>? metadata = null, bool makeAhead = false)
    {
        var shards = new List<List<LazyTensorToWrite>> { new() };
        long size = 0, total = 0;
        foreach (var t in tensors)
        {
            long bytes = Math.Max(0, t.ByteLength ?? long.MaxValue);
            if (maxShardBytes is long limit && size > 0 && size + bytes > limit) { shards.Add([]); size = 0; }
            shards[^1].Add(t);
            size += bytes;
            total += bytes;
        }
        if (shards.Count == 1)
        {
            SafetensorsWriter.WriteLazily(Path.Combine(folder, stem + ".safetensors"), tensors, metadata, makeAhead);
            return;
        }
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int s = 0; s < shards.Count; s++)
        {
            string file = $"{stem}-{s + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsWriter.WriteLazily(Path.Combine(folder, file), shards[s], metadata, makeAhead);
            foreach (var t in shards[s]) weightMap[t.Name] = file;
        }
        ShardedIndexWriter.Write(folder, weightMap, total, stem + ".safetensors.index.json");
    }
}
