namespace Qzo.IO;

/// <summary>
/// The tensors of a Hugging Face checkpoint folder, wherever they are stored. Files are looked for as
/// transformers does: <c>model.safetensors</c>, else <c>model.safetensors.index.json</c> and its shards (diffusers:
/// <c>diffusion_pytorch_model.safetensors</c> and its index);
/// failing both, the folder's only *.safetensors file (older GPTQ repos, e.g. gptq_model-4bit-128g.safetensors).
/// </summary>
public sealed class CheckpointTensors : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string DiffusersFileName = "diffusion_pytorch_model.safetensors";

    /// <summary>transformers' file names, then diffusers' (a pipeline component: vae/, transformer/).</summary>
    static readonly (string Single, string Index)[] Layouts =
        [(SingleFileName, ShardedIndex.FileName), (DiffusersFileName, DiffusersFileName + ".index.json")];

    readonly Dictionary<string, SafetensorsFile> fileOf;
    readonly string directory;

    /// <summary>Every tensor name, in code-point (UTF-8 byte) order; for ASCII names this is ordinal order.</summary>
    public IReadOnlyCollection<string> Names { get; }
    public IReadOnlyList<SafetensorsFile> Files { get; }
    /// <summary>The index file when the checkpoint is sharded, else null.</summary>
    public string? IndexPath { get; }

    CheckpointTensors(string directory, string? indexPath, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> fileOf)
    {
        this.directory = directory;
        IndexPath = indexPath;
        Files = files;
        this.fileOf = fileOf;
        Names = fileOf.Keys.Order(Utf8Ordinal.Comparer).ToArray();
    }

    public static CheckpointTensors Open(string directory)
    {
        string folder = Path.GetFullPath(directory);
        if (!Directory.Exists(folder))
            throw new QzoException(File.Exists(folder)
                ? $"{folder}: is a file; expected a checkpoint folder"
                : $"{folder}: checkpoint folder not found");

        foreach (var (singleName, indexName) in Layouts)
        {
            string single = Path.Combine(folder, singleName);
            string index = Path.Combine(folder, indexName);
            if (File.Exists(single)) return FromFiles(folder, null, [single], null);
            if (File.Exists(index)) return FromIndex(folder, index);
        }

        var others = Directory.GetFiles(folder, "*.safetensors").Order(Utf8Ordinal.Comparer).ToArray();
        return others.Length switch
        {
            0 => throw new QzoException(
                $"{folder}: no safetensors weights ({SingleFileName}, {ShardedIndex.FileName} or another *.safetensors file)"),
            1 => FromFiles(folder, null, others, null),
            _ => throw new QzoException(
                $"{folder}: {others.Length} safetensors files but no {ShardedIndex.FileName} saying how they fit together: " +
                $"{string.Join(", ", others.Select(Path.GetFileName))}"),
        };
    }

    static CheckpointTensors FromIndex(string folder, string indexPath)
    {
        var weightMap = ShardedIndex.ReadWeightMap(indexPath);
        var shards = weightMap.Values.Distinct().Order(Utf8Ordinal.Comparer).ToArray();
        var paths = new List<string>(shards.Length);
        foreach (var shard in shards)
        {
            string path = Path.Combine(folder, shard);
            if (!File.Exists(path))
            {
                string example = weightMap.First(kv => kv.Value == shard).Key;
                throw new QzoException($"{indexPath}: shard {shard} (holding tensor '{example}') not found: {path}");
            }
            paths.Add(path);
        }
        return FromFiles(folder, indexPath, paths, weightMap);
    }

    static CheckpointTensors FromFiles(string folder, string? indexPath, IReadOnlyList<string> paths, Dictionary<string, string>? weightMap)
    {
        var files = new List<SafetensorsFile>(paths.Count);
        try
        {
            var fileOf = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var path in paths)
            {
                var file = SafetensorsFile.Open(path);
                files.Add(file);
                foreach (var tensor in file.Tensors)
                {
                    if (!fileOf.TryAdd(tensor.Name, file))
                        throw new QzoException(
                            $"{folder}: tensor '{tensor.Name}' is stored twice, in {fileOf[tensor.Name].Path} and in {file.Path}");
                }
            }
            if (weightMap is not null) CheckWeightMap(indexPath!, folder, weightMap, fileOf);
            return new CheckpointTensors(folder, indexPath, files, fileOf);
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
    }

    /// <summary>Every tensor the index lists must be in the shard it names.</summary>
    static void CheckWeightMap(string indexPath, string folder, Dictionary<string, string> weightMap,
        Dictionary<string, SafetensorsFile> fileOf)
    {
        foreach (var (name, shard) in weightMap.OrderBy(kv => kv.Key, Utf8Ordinal.Comparer))
        {
            string expected = Path.Combine(folder, shard);
            if (!fileOf.TryGetValue(name, out var actual) || actual.Path != Path.GetFullPath(expected))
                throw new QzoException(actual is null
                    ? $"{indexPath}: tensor '{name}' is mapped to {shard}, but {expected} has no such tensor"
                    : $"{indexPath}: tensor '{name}' is mapped to {shard}, but it is stored in {actual.Path}");
        }
    }

    public bool Contains(string name) => fileOf.ContainsKey(name);

    public SafetensorsFile FileOf(string name) =>
        fileOf.TryGetValue(name, out var file) ? file : throw new QzoException($"{directory}: checkpoint has no tensor named '{name}'");

    public TensorInfo Get(string name) => FileOf(name).Get(name);
    public float[] ReadFloat32(string name) => FileOf(name).ReadFloat32(name);
    public int[] ReadInt32(string name) => FileOf(name).ReadInt32(name);

    public void Dispose()
    {
        foreach (var file in Files) file.Dispose();
    }
}
