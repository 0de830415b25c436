namespace Qzo.Compute;

/// <summary>What a device allocation holds; peaks are reported per category (docs/architecture.md §3).</summary>
public enum MemoryCategory
{
    QuantizedWeights,
    TrainableScales,
    OtherWeights,
    Activations,
    Workspace,
    /// <summary>Keys and values kept for generation.</summary>
    KvCache,
}
