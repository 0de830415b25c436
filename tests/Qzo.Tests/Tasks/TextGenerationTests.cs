using Qzo.Compute.Cpu;
using Qzo.Generation;
using Qzo.Models;
using Qzo.Tests.Models;
using Qzo.Text;

namespace Qzo.Tests.Tasks;

public class TextGenerationTests
{
    /// <summary>Greedy decoding one token at a time from the logits of a single unpadded sequence.</summary>
    static List<int> Reference(CausalLanguageModel model, int[] prompt, int count)
    {
        var ids = prompt.ToList();
        var generated = new List<int>();
        for (int i = 0; i < count; i++)
        {
            var batch = TokenBatch.Pad([(ids.ToArray(), new bool[ids.Count])], 0);
            var logits = model.Logits(batch, [ids.Count - 1])[0];
            int next = Array.IndexOf(logits, logits.Max());
            generated.Add(next);
            ids.Add(next);
        }
        return generated;
    }

    [Fact]
    public void LeftPaddedBatchesDecodeAsEachPromptAlone()
    {
        using var folder = new TempFolder();
        using var backend = new CpuBackend();
        using var session = ModelSession.Open(TinyModels.Dense(folder), backend, TrainingScope.None);
        var prompts = new[] { "The river flows", "A small dog ran across the park, chasing", "Hi" }
            .Select(p => session.Tokenizer.Encode(p)).ToList();
        var batched = TextGeneration.GenerateIds(session.Model, prompts, new GenerationOptions { MaxNewTokens = 6, BatchSize = 3 },
            eosTokenId: null, padTokenId: 0);
        for (int i = 0; i < prompts.Count; i++) Assert.Equal(Reference(session.Model, prompts[i], 6), batched[i]);

        int first = batched[1][0];
        var stopped = TextGeneration.GenerateIds(session.Model, [prompts[1]], new GenerationOptions { MaxNewTokens = 6 },
            eosTokenId: first, padTokenId: 0);
        Assert.Equal([first], stopped[0]);
    }

    [Fact]
    public void TextStopsBeforeTheFirstStopString()
    {
        using var folder = new TempFolder();
        using var backend = new CpuBackend();
        using var session = ModelSession.Open(TinyModels.Dense(folder), backend, TrainingScope.None);
        var free = TextGeneration.Generate(session.Model, session.Tokenizer, ["Water boils at"],
            new GenerationOptions { MaxNewTokens = 8 })[0];
        Assert.Equal("length", free.StopReason);
        Assert.Equal(8, free.TokenIds.Length);
        Assert.Equal(session.Tokenizer.Decode(free.TokenIds), free.Text);
        string stop = free.Text.Substring(free.Text.Length / 2, 1);
        var cut = TextGeneration.Generate(session.Model, session.Tokenizer, ["Water boils at"],
            new GenerationOptions { MaxNewTokens = 8, StopStrings = [stop] })[0];
        Assert.Equal("stop-string", cut.StopReason);
        Assert.Equal(free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)], cut.Text);
    }
}
