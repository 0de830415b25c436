namespace Qzo.Tests.Cli;

static class CliAssert
{
    /// <summary>
    /// A user error: exit 1 and exactly one stderr line, "error: ..." mentioning each of <paramref name="mustMention"/>; never a
    /// stack trace.
    /// </summary>
    public static string FailsWithOneLine(CliProcess.Result r, params string[] mustMention)
    {
        Assert.DoesNotContain("internal error", r.Stderr);
        Assert.True(r.ExitCode == 1, r.ToString());
        var lines = r.Stderr.Trim().Split('\n');
        Assert.True(lines.Length == 1, $"expected one line, got:\n{r.Stderr}");
        Assert.StartsWith("error: ", lines[0]);
        foreach (var text in mustMention) Assert.Contains(text, lines[0]);
        return lines[0];
    }
}
