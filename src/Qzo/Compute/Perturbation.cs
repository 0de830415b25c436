namespace Qzo.Compute;

/// <summary>
/// One side of a Q-SPSA probe: trainable tensor t is used as master + Scale·z(Seed, t, i) (docs/algorithm.md §5).
/// Scale is +ε or −ε; <see cref="None"/> means the master values as they are.
/// </summary>
public readonly record struct Perturbation(ulong Seed, float Scale)
{
    public static Perturbation None => default;
    public bool IsNone => Scale == 0f;
}
