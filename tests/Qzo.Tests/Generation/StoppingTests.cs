using System.Text.Json.Nodes;
using Qzo.Compute.Cpu;
using Qzo.Generation;
using Qzo.Models;
using Qzo.Models.Architectures;
using Qzo.Tests.Models;
using Qzo.Text;

namespace Qzo.Tests.Generation;

/// <summary>What ends a continuation (EOS, a stop string, the length limit), where its EOS ids come from, and the inputs refused.</summary>
public class StoppingTests
{
    static readonly string[] Texts = ["Hello, world", "The cat sat on", "One two"];

    [Fact]
    public void StopStringsEndARowAndCutItsTextWhereTheyFirstAppear()
    {
        using var folder = new TempFolder();
        using var m = new OpenModel(TinyModels.Dense(folder));
        var options = new GenerationOptions { MaxNewTokens = 24, BatchSize = 2 };
        var plain = TextGeneration.Generate(m.Model, m.Tokenizer, Texts, options);
        // A stop string taken from row 0's own continuation: its first ASCII letter or digit after the start.
        int at = Enumerable.Range(1, Math.Max(plain[0].Text.Length - 1, 0))
            .FirstOrDefault(i => char.IsAsciiLetterOrDigit(plain[0].Text[i]));
        Assert.True(at > 0, $"row 0's continuation has no ASCII letter or digit to stop at: {plain[0].Text}");
        string stop = plain[0].Text[at].ToString();

        var cut = TextGeneration.Generate(m.Model, m.Tokenizer, Texts, options with { StopStrings = ["never-generated", stop] });
        for (int i = 0; i < Texts.Length; i++)
        {
            int index = plain[i].Text.IndexOf(stop, StringComparison.Ordinal);
            if (index < 0)
            {
                AssertSame(plain[i], cut[i]);
                continue;
            }
            Assert.Equal(StopReasons.StopString, cut[i].StopReason);
            Assert.Equal(plain[i].Text[..index], cut[i].Text);
            Assert.Equal(plain[i].TokenIds[..cut[i].TokenIds.Length], cut[i].TokenIds);
            Assert.Contains(stop, m.Tokenizer.Decode(cut[i].TokenIds));         // the last token completed the stop string
            Assert.DoesNotContain(stop, m.Tokenizer.Decode(cut[i].TokenIds[..^1]));
        }
        Assert.Equal(StopReasons.StopString, cut[0].StopReason);
        Assert.True(cut[0].TokenIds.Length < plain[0].TokenIds.Length);
    }

    [Fact]
    public void EosEndsItsRowWhileTheOthersRunToTheLength()
    {
        using var folder = new TempFolder();
        string path = TinyModels.Dense(folder);
        const int newTokens = 12;
        var options = new GenerationOptions { MaxNewTokens = newTokens, BatchSize = 3 };
        int[][] prompts;
        IReadOnlyList<int[]> reference;
        int eos, step;
        using (var m = new OpenModel(path))
        {
            prompts = Texts.Select(t => m.Tokenizer.Encode(t)).ToArray();
            reference = TextGeneration.GenerateIds(m.Model, prompts, options, eosTokenId: null, padTokenId: 0);
            // An id that row 0 generates first at some step ≥ 1 and the other rows never: as EOS it ends row 0 there, and only row 0.
            step = Enumerable.Range(1, newTokens - 1).FirstOrDefault(k =>
                !reference[0][..k].Contains(reference[0][k]) && reference.Skip(1).All(r => !r.Contains(reference[0][k])));
            Assert.True(step > 0, "row 0 generates no id that the other rows lack");
            eos = reference[0][step];
            var ended = TextGeneration.GenerateIds(m.Model, prompts, options, eos, padTokenId: 0);
            Assert.Equal(reference[0][..(step + 1)], ended[0]);
            Assert.Equal(reference.Skip(1), ended.Skip(1));
        }

        // The text API takes EOS from generation_config.json (here a list, as Llama-3's), config.json and the tokenizer.
        int unused = Enumerable.Range(3, 300).First(id => reference.All(r => !r.Contains(id)));
        TinyModels.EditJson(Path.Combine(path, "generation_config.json"), c => c["eos_token_id"] = new JsonArray(unused, eos));
        using (var m = new OpenModel(path))
        {
            var eosIds = TextGeneration.EosIds(m.Model.Config, m.Tokenizer);
            Assert.Equal(new[] { unused, eos }.Append(m.Tokenizer.EosId!.Value).ToHashSet(), eosIds.ToHashSet());
            var generated = TextGeneration.Generate(m.Model, m.Tokenizer, Texts, options);
            for (int i = 0; i < Texts.Length; i++)
            {
                int end = Array.FindIndex(reference[i], eosIds.Contains);
                var expected = end < 0 ? reference[i] : reference[i][..(end + 1)];
                Assert.Equal(expected, generated[i].TokenIds);
                Assert.Equal(end < 0 ? StopReasons.Length : StopReasons.Eos, generated[i].StopReason);
                Assert.Equal(m.Tokenizer.Decode(end < 0 ? expected : expected[..^1]), generated[i].Text);
            }
            Assert.Equal(StopReasons.Eos, generated[0].StopReason);
            Assert.Equal(step + 1, generated[0].TokenIds.Length);
            Assert.Contains(generated.Skip(1), g => g.StopReason == StopReasons.Length);
        }
    }

    [Fact]
    public void ConfigJsonGivesTheEosWithoutAGenerationConfig()
    {
        using var folder = new TempFolder();
        string path = TinyModels.Dense(folder);
        File.Delete(Path.Combine(path, "generation_config.json"));
        TinyModels.EditConfig(path, c => c["eos_token_id"] = new JsonArray(7, 9));
        using var m = new OpenModel(path);
        Assert.Null(m.Model.Config.GenerationEosTokenIds);
        Assert.Equal(new[] { 7, 9 }.Append(m.Tokenizer.EosId!.Value).ToHashSet(),
            TextGeneration.EosIds(m.Model.Config, m.Tokenizer).ToHashSet());
    }

    [Fact]
    public void BadOptionsAndPromptsAreRefusedInOneLine()
    {
        using var folder = new TempFolder();
        using var m = new OpenModel(TinyModels.Dense(folder));
        int[][] prompts = [[1, 5, 6]];
        var fine = new GenerationOptions();
        void Refused(GenerationOptions options, string expected, int[][]? given = null, int pad = 0)
        {
            var e = Assert.Throws<QzoException>(
                () => TextGeneration.GenerateIds(m.Model, given ?? prompts, options, eosTokenId: 2, padTokenId: pad));
            Assert.Contains(expected, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        Refused(fine with { MaxNewTokens = -1 }, "new tokens");
        Refused(fine with { BatchSize = 0 }, "batch size");
        Refused(fine with { Greedy = false, Temperature = 0 }, "temperature");
        Refused(fine with { TopP = 0 }, "top-p");
        Refused(fine with { TopP = 1.5f }, "top-p");
        Refused(fine with { TopK = -1 }, "top-k");
        Refused(fine with { StopStrings = [""] }, "stop string");
        Refused(fine, "prompt 1 has no tokens", [[1, 5], []]);
        Refused(fine, "token id 320", [[1, 320]]);
        Refused(fine, "padding token id -1", pad: -1);
        Assert.Equal([[]], TextGeneration.GenerateIds(m.Model, prompts, fine with { MaxNewTokens = 0 }, eosTokenId: 2, padTokenId: 0));
        Assert.Empty(TextGeneration.Generate(m.Model, m.Tokenizer, [], fine));
    }

    [Fact]
    public void OptGeneratesUpToItsLastLearnedPositionAndNoFurther()
    {
        using var folder = new TempFolder();
        using var m = new OpenModel(TinyModels.Dense(folder, ArchitectureRegistry.Opt, "opt")); // max_position_embeddings 64
        int[][] prompts = [TinyModels.RandomIds(60, 320, 46)];
        var options = new GenerationOptions { MaxNewTokens = 5 };
        // positions 0..63
        Assert.Equal(5, TextGeneration.GenerateIds(m.Model, prompts, options, eosTokenId: null, padTokenId: 0)[0].Length);
        var e = Assert.Throws<QzoException>(
            () => TextGeneration.GenerateIds(m.Model, prompts, options with { MaxNewTokens = 6 }, eosTokenId: null, padTokenId: 0));
        Assert.Contains("max_position_embeddings", e.Message);
    }

    static void AssertSame(GeneratedText expected, GeneratedText actual)
    {
        Assert.Equal(expected.Text, actual.Text);
        Assert.Equal(expected.TokenIds, actual.TokenIds);
        Assert.Equal(expected.StopReason, actual.StopReason);
    }

    /// <summary>A checkpoint's model on the CPU and its tokenizer.</summary>
    sealed class OpenModel : IDisposable
    {
        readonly Checkpoint _checkpoint;
        readonly CpuBackend _backend = new();

        public OpenModel(string path)
        {
            _checkpoint = Checkpoint.Open(path);
            Model = ModelLoader.Load(_checkpoint, _backend, TrainingScope.None);
            Tokenizer = Tokenizer.Load(path);
        }

        public CausalLanguageModel Model { get; }
        public Tokenizer Tokenizer { get; }

        public void Dispose()
        {
            Model.Dispose();
            _checkpoint.Dispose();
        }
    }
}
