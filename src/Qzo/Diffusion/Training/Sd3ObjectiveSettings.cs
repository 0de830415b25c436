namespace Qzo.Diffusion.Training;

/// <summary>Which loss a text-to-image run minimises (docs/diffusion-training.md, "Objective").</summary>
public enum Sd3ObjectiveKind
{
    /// <summary>Rectified-flow matching as diffusers trains SD3 (train_dreambooth_sd3.py): the default.</summary>
    FlowMatching,
    /// <summary>What the official QZO code runs on SD3.5: DDPM noising, integer timesteps, an ε target, no latent shift.</summary>
    QzoReference,
}

/// <summary>
/// diffusers' --weighting_scheme for SD3: how σ is drawn (logit-normal, mode, uniform) and, for sigma_sqrt and cosmap
/// (which draw σ uniformly, as diffusers does), how each sample's loss is weighted.
/// </summary>
public enum Sd3WeightingScheme { LogitNormal, Mode, Uniform, SigmaSqrt, Cosmap }

/// <summary>The objective's settings; the defaults are diffusers' (logit-normal, mean 0, std 1, mode_scale 1.29).</summary>
public sealed record Sd3ObjectiveSettings
{
    public Sd3ObjectiveKind Kind { get; init; } = Sd3ObjectiveKind.FlowMatching;
    public Sd3WeightingScheme Weighting { get; init; } = Sd3WeightingScheme.LogitNormal;
    public float LogitMean { get; init; }
    public float LogitStd { get; init; } = 1f;
    public float ModeScale { get; init; } = 1.29f;
    /// <summary>
    /// diffusers' --precondition_outputs: the prediction is mapped to x̂₀ = noisy − σ·pred and compared with x₀, which is
    /// σ² times the plain loss against ε − x₀. Off by default (see docs/diffusion-training.md, "Objective").
    /// </summary>
    public bool PreconditionOutputs { get; init; }

    public static string Name(Sd3ObjectiveKind kind) => kind == Sd3ObjectiveKind.QzoReference ? "qzo-reference" : "flow-matching";

    public static Sd3ObjectiveKind ParseKind(string name) => name switch
    {
        "flow-matching" => Sd3ObjectiveKind.FlowMatching,
        "qzo-reference" => Sd3ObjectiveKind.QzoReference,
        _ => throw new QzoException($"--objective must be flow-matching or qzo-reference, got '{name}'"),
    };

    public static string Name(Sd3WeightingScheme scheme) => scheme switch
    {
        Sd3WeightingScheme.LogitNormal => "logit_normal",
        Sd3WeightingScheme.Mode => "mode",
        Sd3WeightingScheme.Uniform => "uniform",
        Sd3WeightingScheme.SigmaSqrt => "sigma_sqrt",
        _ => "cosmap",
    };

    /// <summary>diffusers' names; "none" (diffusers' spelling of uniform σ with weight 1) is accepted for uniform.</summary>
    public static Sd3WeightingScheme ParseWeighting(string name) => name switch
    {
        "logit_normal" => Sd3WeightingScheme.LogitNormal,
        "mode" => Sd3WeightingScheme.Mode,
        "uniform" or "none" => Sd3WeightingScheme.Uniform,
        "sigma_sqrt" => Sd3WeightingScheme.SigmaSqrt,
        "cosmap" => Sd3WeightingScheme.Cosmap,
        _ => throw new QzoException(
            $"--weighting-scheme must be logit_normal, mode, uniform, sigma_sqrt or cosmap, got '{name}'"),
    };

    public void Validate()
    {
        if (!float.IsFinite(LogitMean)) throw new QzoException($"--logit-mean must be a finite number, got {LogitMean}");
        if (!(LogitStd > 0) || !float.IsFinite(LogitStd)) throw new QzoException($"--logit-std must be > 0, got {LogitStd}");
        if (!float.IsFinite(ModeScale)) throw new QzoException($"--mode-scale must be a finite number, got {ModeScale}");
        if (Kind == Sd3ObjectiveKind.QzoReference && PreconditionOutputs)
            throw new QzoException("--precondition-outputs belongs to the flow-matching objective, not qzo-reference");
    }

    /// <summary>One line for logs and the run's console output.</summary>
    public string Describe() => Kind == Sd3ObjectiveKind.QzoReference
        ? "qzo-reference (DDPM noising, linear β 1e-4…0.02, integer t, ε target, no latent shift)"
        : $"flow-matching (σ by {Name(Weighting)}" + (Weighting == Sd3WeightingScheme.LogitNormal ? $" m={LogitMean:G3} s={LogitStd:G3}"
            : Weighting == Sd3WeightingScheme.Mode ? $" scale={ModeScale:G3}" : "") +
          $", target {(PreconditionOutputs ? "x0 with preconditioned outputs" : "ε − x0")})";
}
