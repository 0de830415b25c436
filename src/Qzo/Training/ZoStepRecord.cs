namespace Qzo.Training;

/// <summary>
/// Everything needed to audit or replay one step. With one direction, the update applied was
/// Δ ← max(Δ − Lr · Applied · z(Seed), floor) for every trainable tensor. With K directions (<see cref="Directions"/>),
/// it was that update along each direction k in turn with step Lr · Applied_k / K; the top-level losses and estimates
/// are then the directions' means.
/// </summary>
public sealed record ZoStepRecord(int Step, ulong Seed, double LossPlus, double LossMinus, double D, double DClipped,
                                  double Applied, double Lr)
{
    /// <summary>Each direction's probe when the step probed more than one; null for one.</summary>
    public IReadOnlyList<DirectionProbe>? Directions { get; init; }

    public bool Equals(ZoStepRecord? other) =>
        other is not null && (Step, Seed, LossPlus, LossMinus, D, DClipped, Applied, Lr)
            .Equals((other.Step, other.Seed, other.LossPlus, other.LossMinus, other.D, other.DClipped, other.Applied, other.Lr))
        && (Directions is null ? other.Directions is null : other.Directions is not null && Directions.SequenceEqual(other.Directions));

    public override int GetHashCode() => HashCode.Combine(Step, Seed, LossPlus, LossMinus, D, Applied);
}

/// <summary>One direction of a step: its seed, the two losses, the estimate d, after clipping, and as applied.</summary>
public sealed record DirectionProbe(ulong Seed, double LossPlus, double LossMinus, double D, double DClipped, double Applied);
