using Qzo.Models.Architectures.Gemma3;
using Qzo.Models.Architectures.Llama;
using Qzo.Models.Architectures.Mistral;
using Qzo.Models.Architectures.Opt;
using Qzo.Models.Architectures.Qwen2;
using Qzo.Models.Architectures.Qwen3;

namespace Qzo.Models.Architectures;

/// <summary>The model families Qzo implements: one line each. A new family is its folder plus its line here.</summary>
public static class ArchitectureRegistry
{
    static readonly List<IArchitecture> Registered = []; // first: the lines below add to it in their order

    public static IArchitecture Llama { get; } = Register(new LlamaArchitecture());
    public static IArchitecture Mistral { get; } = Register(new MistralArchitecture());
    public static IArchitecture Qwen2 { get; } = Register(new Qwen2Architecture());
    public static IArchitecture Opt { get; } = Register(new OptArchitecture());
    public static IArchitecture Qwen3 { get; } = Register(new Qwen3Architecture());
    public static IArchitecture Gemma3 { get; } = Register(new Gemma3Architecture());

    static IArchitecture Register(IArchitecture architecture)
    {
        Registered.Add(architecture);
        return architecture;
    }

    public static IReadOnlyList<IArchitecture> All => Registered;

    public static string SupportedModelTypes => string.Join(", ", All.Select(a => a.ModelType));

    /// <summary>The families' names for help texts: "Llama, Mistral, Qwen2 or OPT".</summary>
    public static string Names => string.Join(", ", All.SkipLast(1).Select(a => a.Name)) + " or " + All[^1].Name;

    public static IArchitecture? FromModelType(string modelType) =>
        All.FirstOrDefault(a => a.ModelType == modelType || a.Aliases.Any(alias => alias.ModelType == modelType));

    /// <summary>The transformers class config.json must name for <paramref name="modelType"/> of <paramref name="architecture"/>.</summary>
    public static string ClassNameFor(IArchitecture architecture, string modelType) =>
        architecture.ModelType == modelType ? architecture.ClassName
            : architecture.Aliases.First(alias => alias.ModelType == modelType).ClassName;

    /// <summary>The family of a model_type, e.g. "opt"; throws for one that is not registered.</summary>
    public static IArchitecture Get(string modelType) => FromModelType(modelType)
        ?? throw new QzoException($"model_type '{modelType}' is not supported (supported: {SupportedModelTypes})");

    /// <summary>For command-line options: the model_type (or an alias's) or the class name, any case.</summary>
    public static IArchitecture Parse(string text, string option) =>
        All.FirstOrDefault(a => string.Equals(a.ModelType, text, StringComparison.OrdinalIgnoreCase)
                             || string.Equals(a.ClassName, text, StringComparison.OrdinalIgnoreCase)
                             || a.Aliases.Any(alias => string.Equals(alias.ModelType, text, StringComparison.OrdinalIgnoreCase)))
        ?? throw new QzoException($"{option} '{text}' is not supported (supported: {SupportedModelTypes})");
}
