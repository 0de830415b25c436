namespace Qzo.Diffusion.Sd3;

/// <summary>
/// diffusers' Timesteps(256, flip_sin_to_cos=True, downscale_freq_shift=0) (get_timestep_embedding), in fp32 step by
/// step as torch computes it: f_i = exp(fp32(−ln 10000 · i) / 128), a_i = t·f_i, row = [cos a, sin a]. The timestep goes in
/// unscaled: the SD3 pipeline passes 1000·σ.
/// </summary>
public static class Sd3TimestepSinusoid
{
    public static float[] Compute(ReadOnlySpan<float> timesteps, int channels = Sd3TransformerConfig.TimestepChannels)
    {
        int half = channels / 2;
        var frequencies = new float[half];
        float minusLogPeriod = (float)-Math.Log(10000);
        for (int i = 0; i < half; i++)
        {
            float exponent = minusLogPeriod * i / half;
            frequencies[i] = (float)Math.Exp(exponent);
        }
        var rows = new float[timesteps.Length * channels];
        for (int b = 0; b < timesteps.Length; b++)
            for (int i = 0; i < half; i++)
            {
                float angle = timesteps[b] * frequencies[i];
                rows[b * channels + i] = (float)Math.Cos(angle);
                rows[b * channels + half + i] = (float)Math.Sin(angle);
            }
        return rows;
    }
}
