using System.Text.Json.Nodes;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Schedulers;
using Qzo.Diffusion.Sd3;
using Qzo.Text;
using Xunit.Abstractions;

namespace Qzo.Tests.Diffusion.Parity;

/// <summary>
/// StableDiffusion3Pipeline against diffusers v0.39.0 (tests/fixtures/sd3/pipeline-*): the whole pipeline folder
/// save_pretrained wrote (three text encoders, transformer, VAE, scheduler, the Hub's tokenizer files), called as io.json
/// records (two prompts, negative prompt "", guidance 3.5, 4 steps, max_sequence_length 16, 16×16) from the recorded
/// initial latents. Checked: the ids each tokenizer fed its encoder (exact), encode_prompt's embeddings and pooled
/// embeddings for the prompts and the negative prompts, the schedule (exact), the latents after the last step and the
/// image in [0, 1].
/// </summary>
public class PipelineParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("pipeline-fp32")]
    [InlineData("pipeline-bf16")]
    public void ImagineMatchesDiffusersFromTheSameLatents(string name)
    {
        using var backend = new CpuBackend();
        Check(name, backend, output);
    }

    public static void Check(string name, IBackend backend, ITestOutputHelper output)
    {
        using var c = Sd3ParityCase.Open(name);
        var call = JsonNode.Parse(File.ReadAllText(Path.Combine(c.Folder, "io.json")))!.AsObject();
        var prompts = call["prompts"]!.AsArray().Select(p => (string)p!).ToList();
        string negative = (string)call["negative_prompt"]!;
        int steps = (int)call["num_inference_steps"]!, tokens = (int)call["max_sequence_length"]!;
        var folder = Sd3PipelineFolder.Open(c.Model);

        var negatives = Enumerable.Repeat(negative, prompts.Count).ToList();
        foreach (var (prefix, texts) in new[] { ("", prompts), ("negative_", negatives) })
        {
            CheckIds(c, $"{prefix}clip_l_ids", folder.Tokenizer, texts, Sd3PromptEncoder.ClipTokens);
            CheckIds(c, $"{prefix}clip_g_ids", folder.Tokenizer2, texts, Sd3PromptEncoder.ClipTokens);
            CheckIds(c, $"{prefix}t5_ids", folder.Tokenizer3!, texts, tokens);
        }

        var transformer = Sd3TransformerConfig.Load(Path.Combine(folder.Transformer, "config.json"));
        foreach (var (prefix, texts) in new[] { ("", prompts), ("negative_", negatives) })
        {
            var embeddings = Sd3PromptEncoder.Encode(folder, backend, texts, tokens, useT5: true, transformer.JointAttentionDim);
            c.Check($"{prefix}prompt_embeds", embeddings.Context, output);
            c.Check($"{prefix}pooled_prompt_embeds", embeddings.Pooled, output);
        }

        var latents = c.ImageShapeOf("latents");
        var scheduler = new FlowMatchEulerScheduler(FlowMatchEulerConfig.Read(Path.Combine(folder.Scheduler, "scheduler_config.json")));
        var sigmas = scheduler.Sigmas(steps, latents.Height / transformer.PatchSize * (latents.Width / transformer.PatchSize));
        c.Check("sigmas", sigmas, output, tolerance: 0);
        c.Check("timesteps", scheduler.Timesteps(sigmas), output, tolerance: 0);

        var result = Sd3Pipeline.Generate(folder, backend, new ImagineSettings
        {
            Prompts = prompts, NegativePrompt = negative, Steps = steps, Guidance = (float)call["guidance_scale"]!,
            Width = (int)call["width"]!, Height = (int)call["height"]!, MaxSequenceLength = tokens,
            InitialLatents = c.Floats("latents"),
        });
        c.Check($"latents.step{steps - 1}", result.FinalLatents, output);
        c.Check("image", result.Images.SelectMany(image => image.Planes).ToArray(), output);
    }

    /// <summary>The ids the pipeline's tokenizer gives each text, padded as encode_prompt pads them, against those recorded.</summary>
    static void CheckIds(Sd3ParityCase c, string tensor, string tokenizerFolder, IReadOnlyList<string> texts, int length)
    {
        var tokenizer = Tokenizer.Load(tokenizerFolder);
        Sd3Parity.Same($"{c.Name} {tensor}", texts.SelectMany(t => tokenizer.EncodePadded(t, length)).ToArray(), c.Ints(tensor));
        Assert.Equal([texts.Count, length], c.Shape(tensor));
    }
}
