namespace Qzo.Tests.Cli;

/// <summary>How a command must fail on bad input: exit 1, one `error:` line naming what was wrong, never a stack trace.</summary>
static class CliErrors
{
    public static string OneLine(CliProcess.Result r, params string[] mustMention)
    {
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.DoesNotContain("internal error", r.Stderr);
        var lines = r.Stderr.Trim().Split('\n');
        Assert.True(lines.Length == 1, $"expected one line, got:\n{r.Stderr}");
        Assert.StartsWith("error: ", lines[0]);
        foreach (var text in mustMention) Assert.Contains(text, lines[0]);
        return lines[0];
    }
}
