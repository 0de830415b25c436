using System.CommandLine;
using System.Diagnostics;
using Qzo.Diffusion.Pipelines;
using Qzo.Numerics;

namespace Qzo.Cli.Commands;

/// <summary>
/// `qzo synth --architecture sd3`: a whole Stable Diffusion 3.5 pipeline folder (Diffusion/Pipelines/Sd3PipelineSynthesis)
/// instead of a language model. Its own options are --preset and --no-t5; --out, --dtype, --seed and --force are shared.
/// </summary>
sealed class Sd3Synth
{
    public const string Architecture = "sd3";

    readonly Option<string> _preset = new("--preset")
    {
        Description = "sd3: tiny (tests and demos: 64 px in seconds on a CPU), medium or large (SD3.5's real shapes with random " +
                      "weights, for device benchmarks: about 16 and 28 GB in bf16)",
        DefaultValueFactory = _ => "tiny",
    };
    readonly Option<bool> _noT5 = new("--no-t5")
        { Description = "sd3: leave out text_encoder_3/ and tokenizer_3/ (model_index.json names them null, as SD3 allows)" };

    public IEnumerable<Option> Options => [_preset, _noT5];

    public static bool Is(string architecture) => string.Equals(architecture, Architecture, StringComparison.OrdinalIgnoreCase);

    /// <summary>The sd3-only options given on a command line for a language-model architecture.</summary>
    public IEnumerable<string> Given(ParseResult r) => Options.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name);

    /// <summary>Checks the options and --out, then writes the pipeline and prints one summary line.</summary>
    /// <param name="languageModelOnly">synth's options that only the language-model architectures take.</param>
    public void Run(ParseResult r, IEnumerable<Option> languageModelOnly, Option<string> output, Option<string> dtypeOption,
                    Option<ulong> seed, Option<bool> force)
    {
        var given = languageModelOnly.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 0)
            throw new QzoException($"{string.Join(", ", given)} {(given.Count == 1 ? "is an option" : "are options")} of the " +
                                   $"language-model architectures; --architecture {Architecture} takes --preset, --no-t5, --dtype " +
                                   "and --seed");
        var dtype = SynthCommand.ParseDType(r.GetValue(dtypeOption)!);
        var options = new Sd3SynthOptions
        {
            Preset = Sd3PipelinePreset.Get(r.GetValue(_preset)!), DType = dtype, Seed = r.GetValue(seed), WithT5 = !r.GetValue(_noT5),
        };
        using var outputs = CommonOptions.Outputs();
        string shown = r.GetValue(output)!, target = outputs.Folder(shown, "--out", r.GetValue(force));
        var clock = Stopwatch.StartNew();
        var summary = Sd3PipelineSynthesis.Write(target, options, r.GetValue(force));
        var t = options.Preset.Transformer;
        string encoders = options.WithT5 ? "CLIP-L, CLIP-G and T5 text encoders" : "CLIP-L and CLIP-G text encoders (no T5)";
        int side = options.Preset.DefaultImageSize;
        Console.WriteLine(
            $"wrote {shown}: StableDiffusion3Pipeline '{options.Preset.Name}' in {clock.Elapsed.TotalSeconds:F1} s (transformer " +
            $"{t.Layers} blocks × {t.InnerDim}, {encoders}, VAE; {summary.Parameters.Values.Sum():N0} parameters, " +
            $"{Qzo.IO.ByteSize.Text(summary.WeightBytes)} of {DTypeText(dtype)} weights); default image {side}×{side}");
    }

    static string DTypeText(DType dtype) => dtype switch { DType.BF16 => "bf16", DType.F16 => "fp16", _ => "fp32" };
}
