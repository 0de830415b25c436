using System.Diagnostics;
using Qzo.Text;
using Xunit.Abstractions;
using static Qzo.Tests.Text.Llama2Fixture;

namespace Qzo.Tests.Text;

[CollectionDefinition(nameof(TokenizerSpeedTests), DisableParallelization = true)]
public class TokenizerSpeedCollection;

/// <summary>Runs alone (not beside other tests); best of three runs, since the build machine is shared.</summary>
[Collection(nameof(TokenizerSpeedTests))]
public class TokenizerSpeedTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("llama2-tokenizer")]
    [InlineData("llama3-tokenizer")]
    [InlineData("gpt2-tokenizer")]
    public void Encodes100KBInWellUnderASecond(string fixture)
    {
        var texts = Expected.Select(e => e.Text).Where(s => !s.Contains('▁')).ToList();
        var mixed = new System.Text.StringBuilder();
        for (int i = 0; mixed.Length < 100_000; i++) mixed.Append(texts[i % texts.Count]).Append(' ');
        var english = new System.Text.StringBuilder();
        while (english.Length < 100_000) english.AppendJoin(' ', TokenizerSynthesizer.BuiltInCorpus).Append('\n');

        var t = fixture == "llama2-tokenizer" ? Llama2 : new TokenizerFixture(fixture).Tokenizer;
        foreach (string input in new[] { mixed.ToString(), english.ToString() })
        {
            var best = TimeSpan.MaxValue;
            int[] ids = [];
            for (int run = 0; run < 3; run++)
            {
                var sw = Stopwatch.StartNew();
                ids = t.Encode(input + run); // a different text each run: no cache hits
                best = sw.Elapsed < best ? sw.Elapsed : best;
            }
            var decode = Stopwatch.StartNew();
            string back = t.Decode(ids);
            output.WriteLine($"{input.Length} chars -> {ids.Length} ids: encode {best.TotalMilliseconds:F0} ms (best of 3), " +
                $"decode {decode.Elapsed.TotalMilliseconds:F0} ms");
            Assert.Equal(input + 2, back);
            Assert.True(best < TimeSpan.FromSeconds(1), $"encoding {input.Length} chars took {best.TotalMilliseconds:F0} ms");
        }
    }
}
