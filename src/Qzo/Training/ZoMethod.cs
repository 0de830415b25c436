namespace Qzo.Training;

public enum ZoMethod
{
    /// <summary>Q-SPSA over the quantization scales of a quantized checkpoint (Shang et al.).</summary>
    Qzo,
    /// <summary>SPSA over every weight of an unquantized checkpoint (Malladi et al.).</summary>
    Mezo,
}

public enum LearningRateSchedule { Constant, Linear }
