using System.CommandLine;
using System.Text.Json.Nodes;
using Qzo.Diffusion.Pipelines;
using Qzo.Imaging;
using Qzo.IO;
using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>`qzo imagine`: text to image with a Stable Diffusion 3 / 3.5 pipeline folder (Diffusion/Pipelines/Sd3Pipeline).</summary>
static class ImagineCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model")
            { Description = "A Stable Diffusion 3 / 3.5 pipeline folder (model_index.json, transformer/, vae/, text_encoder*/, ...)" +
                            HubArguments.ModelHelp };
        var revision = HubArguments.Revision();
        var prompt = new Option<string[]>("--prompt") { Description = "What to draw (repeat for several prompts)" };
        var negative = new Option<string>("--negative-prompt")
            { Description = "What to steer away from (the unconditional prompt of guidance)", DefaultValueFactory = _ => "" };
        var steps = new Option<int>("--steps") { Description = "Denoising steps (flow-matching Euler)", DefaultValueFactory = _ => 28 }
            .Positive();
        var guidance = new Option<float>("--guidance")
            { Description = "Classifier-free guidance scale (≤ 1 turns guidance off)", DefaultValueFactory = _ => 3.5f }
            .Range(v => v >= 0 && v <= 100, "in [0, 100]");
        var size = new Option<int?>("--size")
            { Description = "Width and height in pixels (default: the model's, 1024 for SD3.5)" }.Positive();
        var seed = new Option<ulong>("--seed")
            { Description = "Seed of the first image's noise; image k uses seed + k (Qzo's RNG: torch gives other images)",
              DefaultValueFactory = _ => 0UL };
        var batch = new Option<int>("--batch") { Description = "Images per prompt", DefaultValueFactory = _ => 1 }
            .Range(v => v is > 0 and <= 64, "in [1, 64]");
        var maxSequence = new Option<int>("--max-sequence-length")
            { Description = "T5 tokens of each prompt (diffusers' max_sequence_length)", DefaultValueFactory = _ => 256 }
            .Range(v => v is > 0 and <= 512, "in [1, 512]");
        var noT5 = new Option<bool>("--no-t5") { Description = "Skip the T5 encoder (its context is zeros, as SD3 allows): less memory" };
        var output = new Option<string>("--out") { Description = "Folder for the images (PNG), a contact sheet and imagine.json",
            Required = true };
        var device = CommonOptions.Device();
        var force = CommonOptions.Force();
        var command = new Command("imagine",
            "Draw images from text with a Stable Diffusion 3 / 3.5 pipeline (dense, NF4 or GPTQ transformer); the text encoders, the " +
            "transformer and the VAE are loaded one after another, so the device holds one of them at a time")
        {
            model, revision, prompt, negative, steps, guidance, size, seed, batch, maxSequence, noT5, output, device, force,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            var prompts = r.GetValue(prompt) ?? [];
            if (prompts.Length == 0) throw new QzoException("give at least one --prompt");
            string modelPath = HubArguments.Model(r.GetValue(model)!, r.GetValue(revision));
            using var outputs = CommonOptions.Outputs();
            outputs.Input(modelPath, "the pipeline");
            string target = outputs.Folder(r.GetValue(output)!, "--out", r.GetValue(force));
            var folder = Sd3PipelineFolder.Open(modelPath);
            int? side = r.GetValue(size);
            int perPrompt = r.GetValue(batch);
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!);

            // One pass per image (a seed each, so every image can be redrawn alone); the encoders run once per pass.
            var images = new List<(string Prompt, ulong Seed, RgbImage Image)>();
            var passes = new List<ImagineResult>();
            ulong first = r.GetValue(seed);
            int total = prompts.Length * perPrompt, done = 0;
            ProgressDisplay.Run("imagining", report =>
            {
                foreach (var text in prompts)
                    for (int k = 0; k < perPrompt; k++, done++)
                    {
                        ulong imageSeed = first + (ulong)done;
                        var settings = new ImagineSettings
                        {
                            Prompts = [text], NegativePrompt = r.GetValue(negative) ?? "", Steps = r.GetValue(steps),
                            Guidance = r.GetValue(guidance), Width = side, Height = side, Seed = imageSeed,
                            MaxSequenceLength = r.GetValue(maxSequence), UseT5 = !r.GetValue(noT5),
                        };
                        int index = done;
                        var result = Sd3Pipeline.Generate(folder, backend, settings, new Progress<ImagineProgress>(p =>
                            report((index + (double)p.Step / p.Steps) / total, $"image {index + 1}/{total}: {p.Stage}")));
                        passes.Add(result);
                        images.Add((text, imageSeed, result.Images[0]));
                    }
            });

            OutputFolder.Write(target, r.GetValue(force), staging =>
            {
                var rows = new JsonArray();
                for (int i = 0; i < images.Count; i++)
                {
                    string name = $"{i:D3}-seed{images[i].Seed}.png";
                    ImageFiles.WritePng(images[i].Image, Path.Combine(staging, name));
                    rows.Add(new JsonObject { ["file"] = name, ["prompt"] = images[i].Prompt, ["seed"] = images[i].Seed });
                }
                if (images.Count > 1)
                {
                    int columns = (int)Math.Ceiling(Math.Sqrt(images.Count));
                    var sheet = ContactSheet.Compose(images.Select(i => i.Image).ToList(), columns);
                    ImageFiles.WritePng(sheet, Path.Combine(staging, "contact-sheet.png"));
                }
                var summary = new JsonObject
                {
                    ["pipeline"] = Path.GetFullPath(folder.Root), ["device"] = backend.Name, ["images"] = rows,
                    ["steps"] = r.GetValue(steps), ["guidance"] = r.GetValue(guidance), ["t5"] = !r.GetValue(noT5),
                    ["negative_prompt"] = r.GetValue(negative) ?? "",
                    ["encode_seconds"] = passes.Sum(p => p.EncodeSeconds), ["denoise_seconds"] = passes.Sum(p => p.DenoiseSeconds),
                    ["decode_seconds"] = passes.Sum(p => p.DecodeSeconds),
                    ["transformer_load_seconds"] = passes.Sum(p => p.TransformerLoadSeconds),
                    ["denoise_loop_seconds"] = passes.Sum(p => p.StepSeconds.Sum()),
                    ["step_seconds"] =
                        new JsonArray(passes.SelectMany(p => p.StepSeconds).Select(t => (JsonNode)Math.Round(t, 4)).ToArray()),
                    ["peak_bytes"] = new JsonObject
                    {
                        ["encoders"] = passes.Max(p => p.EncodePeakBytes), ["denoising"] = passes.Max(p => p.DenoisePeakBytes),
                        ["decoding"] = passes.Max(p => p.DecodePeakBytes),
                    },
                };
                File.WriteAllText(Path.Combine(staging, "imagine.json"), summary.ToJsonString(new() { WriteIndented = true }) + "\n");
            });

            var table = new Table().AddColumns("stage", "seconds", "device peak");
            table.AddRow("text encoders", $"{passes.Sum(p => p.EncodeSeconds):F2}", Bytes(passes.Max(p => p.EncodePeakBytes)));
            table.AddRow($"denoising ({r.GetValue(steps)} steps)", $"{passes.Sum(p => p.DenoiseSeconds):F2}",
                         Bytes(passes.Max(p => p.DenoisePeakBytes)));
            table.AddRow("  of which loading the transformer", $"{passes.Sum(p => p.TransformerLoadSeconds):F2}", "");
            table.AddRow("  of which the step loop", $"{passes.Sum(p => p.StepSeconds.Sum()):F2}", "");
            table.AddRow("VAE decode", $"{passes.Sum(p => p.DecodeSeconds):F2}", Bytes(passes.Max(p => p.DecodePeakBytes)));
            AnsiConsole.Write(table);
            Console.WriteLine($"{images.Count} image(s) on {backend.Name} in {target}");
            ProfileTable.Print(backend, "encoders, denoising and decoding");
        }));
        return command;
    }

    static string Bytes(long bytes) => Qzo.IO.ByteSize.Text(bytes);
}
