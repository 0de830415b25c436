using System.Text.Json.Nodes;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Schedulers;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Vae;
using Qzo.Text;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// StableDiffusion3Pipeline's call recorded in io.json (two prompts, negative "", guidance 3.5, 4 steps, T5 length 16,
/// 16×16, the given initial latents) against Qzo's <see cref="Sd3Pipeline"/> on the same pipeline folder: the ids fed to each
/// encoder (exactly), encode_prompt's four results, the schedule, the transformer's guided batch at each step (from the recorded
/// latents and embeddings) and the latents after each step, the VAE's input and output, and the final image in [0, 1].
/// </summary>
static class PipelineParity
{
    const int ClipTokens = Sd3PromptEncoder.ClipTokens;

    public static void Check(IBackend backend, string caseName, ITestOutputHelper output)
    {
        using var c = ParityCase.Open(caseName, output);
        var call = JsonNode.Parse(File.ReadAllText(Path.Combine(c.Folder, "io.json")))!.AsObject();
        var prompts = call["prompts"]!.AsArray().Select(p => (string)p!).ToList();
        var negative = Enumerable.Repeat((string)call["negative_prompt"]!, prompts.Count).ToList();
        int steps = (int)call["num_inference_steps"]!, tokens = (int)call["max_sequence_length"]!;
        float guidance = (float)call["guidance_scale"]!;
        var folder = Sd3PipelineFolder.Open(c.Model);
        var transformerConfig = Sd3TransformerConfig.Load(Path.Combine(folder.Transformer, "config.json"));

        foreach (var (prefix, tokenizer, length) in new[]
                 {
                     ("clip_l", folder.Tokenizer, ClipTokens), ("clip_g", folder.Tokenizer2, ClipTokens),
                     ("t5", folder.Tokenizer3!, tokens),
                 })
        {
            var loaded = Tokenizer.Load(tokenizer);
            c.CheckIds($"{prefix}_ids", prompts.SelectMany(p => loaded.EncodePadded(p, length)).ToArray());
            c.CheckIds($"negative_{prefix}_ids", negative.SelectMany(p => loaded.EncodePadded(p, length)).ToArray());
        }
        var positive = Sd3PromptEncoder.Encode(folder, backend, prompts, tokens, useT5: true, transformerConfig.JointAttentionDim);
        var unconditional = Sd3PromptEncoder.Encode(folder, backend, negative, tokens, useT5: true, transformerConfig.JointAttentionDim);
        c.Check("prompt_embeds", positive.Context);
        c.Check("pooled_prompt_embeds", positive.Pooled);
        c.Check("negative_prompt_embeds", unconditional.Context);
        c.Check("negative_pooled_prompt_embeds", unconditional.Pooled);

        var scheduler = new FlowMatchEulerScheduler(FlowMatchEulerConfig.Read(Path.Combine(folder.Scheduler, "scheduler_config.json")));
        var latentShape = c.Shape("latents");
        int height = (int)latentShape[2], width = (int)latentShape[3], patch = transformerConfig.PatchSize;
        var sigmas = scheduler.Sigmas(steps, height / patch * (width / patch));
        c.Check("sigmas", sigmas);
        c.Check("timesteps", scheduler.Timesteps(sigmas));
        CheckSteps(c, backend, folder, sigmas, scheduler.Timesteps(sigmas), guidance, (int)latentShape[0], height, width);

        var settings = new ImagineSettings
        {
            Prompts = prompts, NegativePrompt = negative[0], Steps = steps, Guidance = guidance, MaxSequenceLength = tokens,
            Width = (int)call["width"]!, Height = (int)call["height"]!, InitialLatents = c.Floats("latents"),
        };
        var result = Sd3Pipeline.Generate(folder, backend, settings);
        c.Check($"latents.step{steps - 1}", result.FinalLatents);
        c.Check("image", result.Images.SelectMany(i => i.Planes).ToArray());

        using var vae = AutoencoderKL.Load(folder.Vae, backend);
        var shape = new ImageShape((int)latentShape[0], (int)latentShape[1], height, width);
        double scale = vae.Config.ScalingFactor, shift = vae.Config.ShiftFactor ?? 0;
        c.Check("vae_decoder_input", result.FinalLatents.Select(z => (float)(z / scale + shift)).ToArray());
        using (var z = HostFloats.Upload(backend, result.FinalLatents, MemoryCategory.Activations))
        using (var decoded = vae.DecodeLatents(vae.Context(), z, shape))
            c.Check("vae_decoded", HostFloats.Download(backend, decoded, vae.DecodedShape(shape).Count));
        c.RequireEveryOutputChecked("latents");
    }

    /// <summary>
    /// Each step alone from the recorded latents before it and the recorded embeddings: the transformer's output on the guided batch
    /// [negative, positive], and the Euler step x + (σ_next − σ)·(v_u + g·(v_c − v_u)) the pipeline takes with it.
    /// </summary>
    static void CheckSteps(ParityCase c, IBackend backend, Sd3PipelineFolder folder, float[] sigmas, float[] timesteps, float guidance,
                           int images, int height, int width)
    {
        using var transformer = Sd3Transformer.Load(folder.Transformer, backend);
        float[] context = [.. c.Floats("negative_prompt_embeds"), .. c.Floats("prompt_embeds")];
        float[] pooled = [.. c.Floats("negative_pooled_prompt_embeds"), .. c.Floats("pooled_prompt_embeds")];
        int textTokens = (int)c.Shape("prompt_embeds")[1];
        for (int step = 0; step < timesteps.Length; step++)
        {
            var before = c.Floats(step == 0 ? "latents" : $"latents.step{step - 1}");
            float[] times = [.. Enumerable.Repeat(timesteps[step], 2 * images)];
            var inputs = new Sd3TestRuns.Inputs([.. before, .. before], context, pooled, times, 2 * images, height, width, textTokens);
            var velocity = Sd3TestRuns.Run(transformer, inputs)["sample"];
            c.Check($"transformer_out.step{step}", velocity);
            if (step == timesteps.Length - 1) break; // the last step's latents are the whole pipeline's, checked by the caller
            int half = before.Length;
            var next = new float[half];
            for (int i = 0; i < half; i++)
            {
                float v = velocity[i] + guidance * (velocity[half + i] - velocity[i]);
                next[i] = before[i] + (sigmas[step + 1] - sigmas[step]) * v;
            }
            c.Check($"latents.step{step}", next);
        }
    }
}

/// <summary>
/// fp32 on the CPU backend. pipeline-bf16 runs in tests/Qzo.DeviceTests/Sd3ParityDeviceChecks.cs only: on the CPU
/// backend (fp32 activations over bf16 weights) every step stays within 1e-2, but the reference's bf16 rounding through
/// 4 steps and the VAE leaves the image at 2.5e-2 of its scale (vae_decoded 1.9e-2), while the fp32 case agrees to 3e-6.
/// </summary>
public class PipelineParityTests(ITestOutputHelper output)
{
    [Theory, InlineData("pipeline-fp32")]
    public void MatchesDiffusers(string caseName)
    {
        using var backend = new CpuBackend();
        PipelineParity.Check(backend, caseName, output);
    }
}
