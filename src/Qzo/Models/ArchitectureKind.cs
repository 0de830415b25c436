namespace Qzo.Models;

/// <summary>The model architectures Qzo implements, as config.json names them.</summary>
public enum ArchitectureKind { Llama, Mistral, Qwen2, Opt }

public static class Architectures
{
    sealed record Names(ArchitectureKind Kind, string ModelType, string ClassName);

    static readonly Names[] All =
    [
        new(ArchitectureKind.Llama, "llama", "LlamaForCausalLM"),
        new(ArchitectureKind.Mistral, "mistral", "MistralForCausalLM"),
        new(ArchitectureKind.Qwen2, "qwen2", "Qwen2ForCausalLM"),
        new(ArchitectureKind.Opt, "opt", "OPTForCausalLM"),
    ];

    public static string ModelType(this ArchitectureKind kind) => All.Single(n => n.Kind == kind).ModelType;

    /// <summary>The transformers class config.json's `architectures` names, e.g. LlamaForCausalLM.</summary>
    public static string ClassName(this ArchitectureKind kind) => All.Single(n => n.Kind == kind).ClassName;

    public static string SupportedModelTypes => string.Join(", ", All.Select(n => n.ModelType));

    public static ArchitectureKind? FromModelType(string modelType) => All.FirstOrDefault(n => n.ModelType == modelType)?.Kind;

    /// <summary>For command-line options: the model_type or the class name, any case.</summary>
    public static ArchitectureKind Parse(string text, string option) =>
        All.FirstOrDefault(n => string.Equals(n.ModelType, text, StringComparison.OrdinalIgnoreCase)
                             || string.Equals(n.ClassName, text, StringComparison.OrdinalIgnoreCase))?.Kind
        ?? throw new QzoException($"{option} '{text}' is not supported (supported: {SupportedModelTypes})");
}
