
namespace Qzo.Tasks.Definitions;

/// <summary>
/// The built-in tasks (YAML files embedded from src/Qzo/Tasks/BuiltIn, in the same format a user writes) and
/// the lookup of `--task`: a built-in name, or the path of a .yaml/.yml/.json definition file.
/// </summary>
public static class TaskCatalog
{
    static readonly Lazy<IReadOnlyList<TaskDefinition>> Loaded = new(Load);

    public static IReadOnlyList<TaskDefinition> BuiltIn => Loaded.Value;

    public static TaskDefinition Resolve(string nameOrPath)
    {
        var builtIn = BuiltIn.FirstOrDefault(t => string.Equals(t.Name, nameOrPath, StringComparison.OrdinalIgnoreCase));
        if (builtIn is not null) return builtIn;
        if (File.Exists(nameOrPath)) return TaskDefinitionReader.ReadFile(nameOrPath);
        throw new QzoException(
            $"--task: '{nameOrPath}' is neither a built-in task ({string.Join(", ", BuiltIn.Select(t => t.Name))}) nor a task file");
    }

    static IReadOnlyList<TaskDefinition> Load()
    {
        var assembly = typeof(TaskCatalog).Assembly;
        const string prefix = "Qzo.Tasks.BuiltIn.";
        return assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(name =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
                return TaskDefinitionReader.Parse(reader.ReadToEnd(), name[prefix.Length..], "built-in");
            })
            .ToList();
    }
}
