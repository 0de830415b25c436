using System.Text.Json;
using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Models;
using Xunit.Abstractions;

namespace Qzo.Tests.Models;

/// <summary>
/// Our CPU forward pass against Hugging Face transformers 5.17 on small random LlamaForCausalLM models that
/// transformers itself saved with save_pretrained (tests/oracle/llama_reference.py, run once on the device;
/// its outputs live in tests/fixtures/hf-llama). fp32 throughout; the fp64 run of the same models shows
/// how far transformers' own fp32 arithmetic is from exact.
/// </summary>
public class HuggingFaceParityTests(ITestOutputHelper output)
{
    sealed record Reference(int[][] input_ids, int[][] attention_mask, int[][] labels, int[] lengths, float[] inv_freq, Run fp32, Run fp64);
    sealed record Run(double loss, PerSequence[] per_sequence, float[][] last_logits, float[][] first_sequence_logits);
    sealed record PerSequence(double sum, int count);

    [Theory]
    [InlineData("llama3-gqa-bf16")]
    [InlineData("llama2-tied-fp32")]
    public void LossAndLogitsMatchTransformers(string name)
    {
        string folder = TestPaths.Fixture("hf-llama", name);
        var reference = JsonSerializer.Deserialize<Reference>(File.ReadAllText(Path.Combine(folder, "reference.json")))!;
        using var checkpoint = Checkpoint.Open(folder);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        Assert.Empty(model.UnusedTensors);

        int batch = reference.input_ids.Length, seq = reference.input_ids[0].Length;
        var tokens = new TokenBatch
        {
            Batch = batch, Seq = seq,
            Ids = reference.input_ids.SelectMany(r => r).ToArray(),
            AttentionMask = reference.attention_mask.SelectMany(r => r).ToArray(),
            Labels = reference.labels.SelectMany(r => r).ToArray(),
        };

        // RoPE frequencies as transformers computed them (llama3 scaling included).
        var config = (LlamaConfig)checkpoint.Config;
        var inv = config.Rope.InverseFrequencies(config.HeadDim);
        for (int i = 0; i < inv.Length; i++) Assert.Equal(reference.inv_freq[i], inv[i], reference.inv_freq[i] * 2e-6f);

        var losses = model.Loss(tokens, Perturbation.None);
        var lastPositions = reference.lengths.Select((n, b) => b * seq + n - 1).ToArray();
        var last = model.Logits(tokens, lastPositions);
        var first = model.Logits(tokens, Enumerable.Range(0, seq).ToArray());

        double lossDiff = Math.Abs(losses.Mean - reference.fp32.loss);
        double maxLast = MaxAbsDiff(last, reference.fp32.last_logits);
        double maxFirst = MaxAbsDiff(first, reference.fp32.first_sequence_logits);
        double ownError = Math.Max(MaxAbsDiff(last, reference.fp64.last_logits), MaxAbsDiff(first, reference.fp64.first_sequence_logits));
        double hfError = Math.Max(MaxAbsDiff(reference.fp32.last_logits, reference.fp64.last_logits),
                                  MaxAbsDiff(reference.fp32.first_sequence_logits, reference.fp64.first_sequence_logits));
        double scale = reference.fp64.first_sequence_logits.SelectMany(r => r).Max(v => Math.Abs((double)v));
        output.WriteLine($"{name}: |loss - hf| = {lossDiff:E2} (loss {losses.Mean:F6}); max |logit - hf fp32| last {maxLast:E2}, all of seq 0 {maxFirst:E2}; " +
                         $"vs fp64: ours {ownError:E2}, transformers fp32 {hfError:E2}; largest |logit| {scale:F1}");

        // Tolerance: 1e-4 per unit of logit scale (HF's own fp32 error here is ~1e-6 per unit).
        double tolerance = 1e-4 * Math.Max(1, scale / 10);
        Assert.True(maxLast <= tolerance, $"last-position logits differ by {maxLast}");
        Assert.True(maxFirst <= tolerance, $"sequence-0 logits differ by {maxFirst}");
        Assert.True(lossDiff <= 1e-5 * Math.Max(1, reference.fp64.loss), $"loss differs by {lossDiff}");
        for (int b = 0; b < batch; b++)
        {
            Assert.Equal(reference.fp64.per_sequence[b].count, losses.Count[b]);
            Assert.Equal(reference.fp64.per_sequence[b].sum, losses.Sum[b], 1e-5 * Math.Max(1, reference.fp64.per_sequence[b].sum));
        }
    }

    static double MaxAbsDiff(float[][] a, float[][] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int r = 0; r < a.Length; r++)
        {
            Assert.Equal(a[r].Length, b[r].Length);
            for (int i = 0; i < a[r].Length; i++) max = Math.Max(max, Math.Abs((double)a[r][i] - b[r][i]));
        }
        return max;
    }
}
