using System.Text;

namespace Qzo.IO;

/// <summary>Writes <c>model.safetensors.index.json</c> byte for byte as transformers' save_pretrained does
/// (<c>json.dumps(index, indent=2, sort_keys=True) + "\n"</c>).</summary>
public static class ShardedIndexWriter
{
    /// <param name="fileName">The index's name: transformers' by default, diffusers' is
    /// diffusion_pytorch_model.safetensors.index.json.</param>
    public static void Write(string directory, IReadOnlyDictionary<string, string> weightMap, long totalSize,
                             string fileName = ShardedIndex.FileName)
    {
        var sb = new StringBuilder();
        sb.Append("{\n  \"metadata\": {\n    \"total_size\": ").Append(totalSize).Append("\n  },\n  \"weight_map\": {");
        bool first = true;
        foreach (var name in weightMap.Keys.Order(Utf8Ordinal.Comparer))
        {
            sb.Append(first ? "\n    " : ",\n    ");
            first = false;
            JsonStrings.AppendPython(sb, name);
            sb.Append(": ");
            JsonStrings.AppendPython(sb, weightMap[name]);
        }
        sb.Append(first ? "}\n}\n" : "\n  }\n}\n");
        AtomicFile.WriteAllText(Path.Combine(directory, fileName), sb.ToString());
    }
}
