namespace Qzo.Quantization.Bnb;

/// <summary>
/// bitsandbytes' signed 8-bit dynamic map (functional.create_dynamic_map(signed=True, max_exponent_bits=7,
/// total_bits=8)), the code of the nested (double-quantized) absmax: for each decade 10^(i−6), i = 0..6, the
/// midpoints of 2^i + 1 points evenly spaced over [0.1, 1], with both signs; then 0 and 1; sorted (256 values).
/// Arithmetic in float32 as torch does it (linspace from both ends, midpoints, then times the decade).
/// </summary>
public static class DynamicMap
{
    public static float[] Signed()
    {
        var data = new List<float>(256);
        for (int i = 0; i < 7; i++)
        {
            var boundaries = Linspace(0.1f, 1f, (1 << i) + 1);
            float decade = (float)Math.Pow(10, i - 6);
            for (int sign = 1; sign >= -1; sign -= 2)
                for (int k = 0; k + 1 < boundaries.Length; k++)
                    data.Add(sign * decade * ((boundaries[k] + boundaries[k + 1]) / 2f));
        }
        data.Add(0f);
        data.Add(1f);
        data.Sort();
        return data.ToArray();
    }

    /// <summary>torch.linspace for float32: start + step·i for the first half, end − step·(steps − 1 − i) for the rest.</summary>
    static float[] Linspace(float start, float end, int steps)
    {
        float step = (end - start) / (steps - 1);
        var values = new float[steps];
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) values[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        return values;
    }
}
