namespace Qzo.Training;

/// <summary>What a zeroth-order run trains (<see cref="ZoOptions.Method"/>).</summary>
public enum ZoMethod
{
    /// <summary>Q-SPSA over the quantization scales of a quantized checkpoint (Shang et al.).</summary>
    Qzo,
    /// <summary>SPSA over every weight of an unquantized checkpoint (Malladi et al.).</summary>
    Mezo,
}

/// <summary>How the learning rate moves over a run (<see cref="ZoOptions.Schedule"/>).</summary>
public enum LearningRateSchedule
{
    /// <summary>η throughout (the paper's).</summary>
    Constant,
    /// <summary>η decaying linearly to 0 at the last step.</summary>
    Linear,
}
