namespace Qzo.Training;

/// <summary>Where a run is: reported before the first step and after each one.</summary>
public sealed record TrainingProgress(int Step, int Steps, ZoStepRecord? LastStep, EvaluationResult? LastEvaluation);

/// <summary>What a run ended with: the evaluations before, after and kept, and every step's record.</summary>
public sealed record TrainingSummary(EvaluationResult? Before, EvaluationResult? After, EvaluationResult? Best, int BestStep,
                                     int Steps, double Seconds, IReadOnlyList<ZoStepRecord> History);
