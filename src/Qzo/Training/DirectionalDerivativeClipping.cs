namespace Qzo.Training;

/// <summary>DDC (QZO paper, Eq. 6): a saturating clip of the scalar directional derivative to [−C, C].</summary>
public static class DirectionalDerivativeClipping
{
    public static double Clip(double d, float? threshold) =>
        threshold is float c ? Math.Clamp(d, -c, c) : d;
}
