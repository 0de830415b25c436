namespace Qzo.Training;

/// <summary>
/// Everything needed to audit or replay one step: the update applied was
/// Δ ← max(Δ − Lr · Applied · z(Seed), floor) for every trainable tensor.
/// </summary>
public sealed record ZoStepRecord(int Step, ulong Seed, double LossPlus, double LossMinus, double D, double DClipped,
                                  double Applied, double Lr);
