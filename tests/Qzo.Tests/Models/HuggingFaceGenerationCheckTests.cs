using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Tests.Generation;
using Xunit.Abstractions;

namespace Qzo.Tests.Models;

/// <summary>
/// <see cref="HuggingFaceChecks.CheckGeneration"/> (KV-cache greedy decoding with suppressed ids, as the hf-arch
/// fixtures will use it) on a fixture of the same form made here by the full-forward argmax loop, until the device
/// oracle's fixtures are committed: it passes on the right tokens and fails on a wrong one.
/// </summary>
public class HuggingFaceGenerationCheckTests(ITestOutputHelper output)
{
    [Fact]
    public void KvCacheGreedyWithSuppressedIdsMatchesTheArgmaxLoop()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Dense(folder, ArchitectureRegistry.Mistral, "m"));
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        var prompts = GenerationChecks.Prompts(model.Config.VocabSize);
        // Suppress each prompt's unsuppressed first pick, so suppression changes what is generated.
        int[] suppressed = prompts.Select(p => Argmax(GenerationChecks.FullForwardLogits(model, [p], alone: true)[0], []))
            .Distinct().ToArray();
        var generations = prompts.Select(p => ArgmaxLoop(model, p, 8, suppressed)).ToArray();
        Assert.All(generations, g => Assert.DoesNotContain(g.tokens[0], suppressed));
        var fixture = new HuggingFaceFixture([], [], [], [], null, null!, null!, null, suppressed, generations);
        HuggingFaceChecks.CheckGeneration(model, fixture, scale: 10, output);

        var wrong = generations[1] with
        {
            tokens = generations[1].tokens.Select((t, i) => i == 3 ? (t + 1) % model.Config.VocabSize : t).ToArray()
        };
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
        {
            HuggingFaceChecks.CheckGeneration(model, fixture with { generation = [generations[0], wrong, generations[2]] }, scale: 10,
                output);
        });
    }

    static FixtureGeneration ArgmaxLoop(CausalLanguageModel model, int[] prompt, int newTokens, int[] suppressed)
    {
        var tokens = prompt.ToList();
        var margins = new double[newTokens];
        for (int step = 0; step < newTokens; step++)
        {
            var logits = GenerationChecks.FullForwardLogits(model, [tokens.ToArray()], alone: true)[0];
            int best = Argmax(logits, suppressed);
            margins[step] = logits[best] - logits.Where((_, i) => i != best && !suppressed.Contains(i)).Max();
            tokens.Add(best);
        }
        return new FixtureGeneration(prompt, tokens.Skip(prompt.Length).ToArray(), margins, plain_loop_agrees: true);
    }

    static int Argmax(float[] logits, int[] suppressed) =>
        Enumerable.Range(0, logits.Length).Where(i => !suppressed.Contains(i)).MaxBy(i => logits[i]);
}
