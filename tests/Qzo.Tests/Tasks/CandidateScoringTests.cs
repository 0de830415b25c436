using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Models;
using Qzo.Tasks;
using Qzo.Tests.Models;

namespace Qzo.Tests.Tasks;

/// <summary>
/// The shared-prompt scoring of classification candidates against running every candidate as its own row (model.Loss),
/// the way the scores were computed before and the way MeZO computes them.
/// </summary>
public sealed class CandidateScoringTests
{
    static SequenceExample Candidate(int[] prompt, params int[] answer) =>
        new([.. prompt, .. answer], [.. new bool[prompt.Length], .. Enumerable.Repeat(true, answer.Length)]);

    /// <summary>Scores as model.Loss gives them, one padded row per candidate.</summary>
    static double[][] RowPerCandidate(CausalLanguageModel model, IReadOnlyList<ChoiceExample> batch, Perturbation p, int padTo)
    {
        var losses = model.Loss(TokenBatch.Pad(batch.SelectMany(e => e.Candidates).Select(c => (c.Ids, c.Scored)).ToList(), 0,
                                               atLeast: padTo), p);
        int s = 0;
        return batch.Select(e => e.Candidates.Select(_ => -losses.Sum[s] / Math.Max(losses.Count[s++], 1)).ToArray()).ToArray();
    }

    [Fact]
    public void SharedPromptScoresEqualOneRowPerCandidateAndMixedBatchesToo()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Gptq(folder));
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.QuantizationScales);
        var random = new Random(3);
        int[] Prompt(int n) => Enumerable.Range(0, n).Select(_ => random.Next(3, 320)).ToArray();
        var p1 = Prompt(9); var p2 = Prompt(5); var p3 = Prompt(7);
        var batch = new List<ChoiceExample>
        {
            new([Candidate(p1, 11), Candidate(p1, 12)], 0),               // shared prompt, one answer token each
            new([Candidate(p2, 40), Candidate(p2, 41), Candidate(p2, 42)], 2),
            new([Candidate(p3, 7, 8), Candidate(p3, 9)], 1),                 // answers of different lengths: a row each
            new([Candidate(p3, 5), Candidate(Prompt(7), 6)], 0),            // different prompts: a row each
        };
        Assert.True(CandidateScoring.SharePromptAndDifferInLastToken(batch[0].Candidates));
        Assert.True(CandidateScoring.SharePromptAndDifferInLastToken(batch[1].Candidates));
        Assert.False(CandidateScoring.SharePromptAndDifferInLastToken(batch[2].Candidates));
        Assert.False(CandidateScoring.SharePromptAndDifferInLastToken(batch[3].Candidates));

        foreach (var (p, padTo) in new[] { (Perturbation.None, 0), (new Perturbation(99, 1e-2f), 0), (new Perturbation(5, -1e-2f), 16) })
        {
            var expected = RowPerCandidate(model, batch, p, padTo);
            var actual = CandidateScoring.Scores(model, batch, p, padId: 0, padTo);
            for (int e = 0; e < batch.Count; e++)
                for (int c = 0; c < batch[e].Candidates.Length; c++)
                    Assert.True(Math.Abs(actual[e][c] - expected[e][c]) <= 1e-4 * Math.Abs(expected[e][c]) + 1e-5,
                        $"example {e}, candidate {c}, scale {p.Scale}, padTo {padTo}: {actual[e][c]} against {expected[e][c]}");
            // The perturbation reaches the scores: they move with it.
            if (!p.IsNone) Assert.NotEqual(RowPerCandidate(model, batch, Perturbation.None, 0)[0][0], actual[0][0]);
        }
    }

    [Fact]
    public void NextTokenNllRefusesTargetsOutsideTheVocabularyAndMismatchedLists()
    {
        using var folder = new TempFolder();
        using var checkpoint = Checkpoint.Open(TinyModels.Gptq(folder));
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(checkpoint, backend, TrainingScope.None);
        var batch = TokenBatch.Pad([([5, 6, 7], new bool[3])], 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.NextTokenNll(batch, [2], [320], Perturbation.None));
        Assert.Throws<ArgumentException>(() => model.NextTokenNll(batch, [1, 2], [3], Perturbation.None));
        // A position's several targets: their probabilities come from one softmax, so they sum to at most 1.
        var nll = model.NextTokenNll(batch, [2, 2, 2], [10, 11, 12], Perturbation.None);
        Assert.InRange(nll.Sum(v => Math.Exp(-v)), 0, 1);
        Assert.All(nll, v => Assert.True(v > 0));
    }
}
