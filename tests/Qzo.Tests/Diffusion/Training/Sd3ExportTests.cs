using Qzo.Compute.Cpu;
using Qzo.Diffusion.Pipelines;
using Qzo.Diffusion.Sd3;
using Qzo.Diffusion.Training;
using Qzo.IO;
using Qzo.Training;

namespace Qzo.Tests.Diffusion.Training;

/// <summary>
/// The tuned pipeline: the transformer in the input's NF4 layout with only the absmax changed (re-encoded when
/// double-quantized), the other components linked, and a folder that loads back with the tuned values.
/// </summary>
public sealed class Sd3ExportTests(TinyNf4Sd3 tiny) : IClassFixture<TinyNf4Sd3>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheSavedTransformerDiffersOnlyInItsAbsmaxAndLoadsBackTuned(bool doubleQuant)
    {
        string input = doubleQuant ? tiny.DoubleQuantPipeline : tiny.Pipeline, output = tiny.NewFolder("saved");
        using var backend = new CpuBackend();
        var settings = new Sd3FinetuneSettings { Optimizer = new ZoOptions { Steps = 3, BatchSize = 2, LearningRate = 2e-2f, Seed = 2 } };
        float[][] tuned;
        double encodingError;
        using (var run = Sd3FineTuning.Open(input, settings, backend))
        {
            var before = run.Trainable.Snapshot();
            using var metrics = new MetricsWriter(null);
            run.Loop(tiny.Train, [], metrics).Run();
            tuned = run.Trainable.Snapshot();
            Assert.NotEqual(before, tuned);
            var summary = run.Save(output);
            encodingError = summary.Transformer.MaxEncodingError;
            Assert.Equal(doubleQuant, encodingError > 0);
            Assert.True(summary.LinkedFiles > 0, "the frozen components are linked, not copied");
        }

        string name = CheckpointTensors.DiffusersFileName;
        using (var original = SafetensorsFile.Open(Path.Combine(input, "transformer", name)))
        using (var saved = SafetensorsFile.Open(Path.Combine(output, "transformer", name)))
        {
            Assert.Equal(original.Tensors.Select(t => (t.Name, t.DType, string.Join(",", t.Shape))),
                         saved.Tensors.Select(t => (t.Name, t.DType, string.Join(",", t.Shape))));
            var changed = original.Tensors.Where(t => !original.GetBytes(t.Name).SequenceEqual(saved.GetBytes(t.Name))).Select(t => t.Name)
                .ToList();
            Assert.NotEmpty(changed);
            Assert.All(changed, n => Assert.True(n.EndsWith(".weight.absmax", StringComparison.Ordinal)
                                                 || doubleQuant && n.EndsWith(".weight.nested_absmax", StringComparison.Ordinal), n));
        }
        foreach (var file in new[] { "vae/config.json", "vae/" + name, "text_encoder/model.safetensors", "tokenizer_3/tokenizer.json" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(input, file)), File.ReadAllBytes(Path.Combine(output, file)));
            Assert.Equal(Posix.IdentityOf(Path.Combine(input, file)), Posix.IdentityOf(Path.Combine(output, file)));
        }
        Assert.Equal(File.ReadAllText(Path.Combine(input, "transformer", "config.json")),
                     File.ReadAllText(Path.Combine(output, "transformer", "config.json")));

        var folder = Sd3PipelineFolder.Open(output);
        using var loaded = Sd3Transformer.Load(folder.Transformer, backend);
        var reloaded = Sd3TrainableScales.Set(loaded, Sd3TrainableScales.Mark(loaded)).Snapshot();
        for (int t = 0; t < tuned.Length; t++)
            for (int i = 0; i < tuned[t].Length; i++)
                if (doubleQuant) Assert.Equal(tuned[t][i], reloaded[t][i], encodingError * 1.0001);
                else Assert.Equal(tuned[t][i], reloaded[t][i]);
    }
}
