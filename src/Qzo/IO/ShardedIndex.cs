using System.Text.Json;

namespace Qzo.IO;

/// <summary>Reads the weight map of a sharded checkpoint's <c>model.safetensors.index.json</c>.</summary>
internal static class ShardedIndex
{
    public const string FileName = "model.safetensors.index.json";

    /// <returns>Tensor name → shard file name. Everything besides weight_map (metadata and any newer keys) is ignored.</returns>
    public static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllBytes(indexPath)); }
        catch (JsonException e) { throw new QzoException($"{indexPath}: not valid JSON: {e.Message.ReplaceLineEndings(" ")}"); }
        catch (IOException e) { throw new QzoException($"{indexPath}: cannot read: {e.Message}", e); }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var weightMap)
                || weightMap.ValueKind != JsonValueKind.Object)
                throw new QzoException($"{indexPath}: expected an object with a \"weight_map\" object");

            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in weightMap.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String || entry.Value.GetString() is not { Length: > 0 } shard)
                    throw new QzoException($"{indexPath}: weight_map entry for tensor '{entry.Name}' must be a shard file name");
                if (Path.IsPathRooted(shard) || shard.Split('/', '\\').Contains(".."))
                    throw new QzoException(
                        $"{indexPath}: shard '{shard}' for tensor '{entry.Name}' must be a file inside the checkpoint folder");
                if (!map.TryAdd(entry.Name, shard))
                    throw new QzoException($"{indexPath}: weight_map names tensor '{entry.Name}' twice");
            }
            return map;
        }
    }
}
