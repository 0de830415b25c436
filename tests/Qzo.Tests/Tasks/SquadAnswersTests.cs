using Qzo.Tasks.Metrics;

namespace Qzo.Tests.Tasks;

public class SquadAnswersTests
{
    [Theory]
    [InlineData("The Cat  sat.", "cat sat")]
    [InlineData("  an apple, a pear & the plum!", "apple pear plum")]
    [InlineData("theatre", "theatre")]
    [InlineData("Élan d'été", "élan dété")]
    public void NormalizesAsTheOfficialScript(string text, string expected) => Assert.Equal(expected, SquadAnswers.Normalize(text));

    [Fact]
    public void F1CountsSharedTokensAndTakesTheBestGold()
    {
        Assert.Equal(0.8, SquadAnswers.F1("the cat sat", "a cat sat down"), 12);          // P = 2/2, R = 2/3
        Assert.Equal(0.5, SquadAnswers.F1("cat cat", "cat dog"), 12);                     // one shared "cat": P = R = 1/2
        Assert.Equal(0.0, SquadAnswers.F1("", "cat"));
        Assert.Equal(1.0, SquadAnswers.F1("in 1887", ["1887", "In 1887."]));
        Assert.Equal(1.0, SquadAnswers.ExactMatch("The Hawks", ["the hawks!"]));
        Assert.Equal(0.0, SquadAnswers.ExactMatch("Hawks fans", ["the hawks"]));
    }
}
