using System.CommandLine;
using Qzo.Cli;
using Qzo.Cli.Commands;

namespace Qzo.Tests.Cli;

/// <summary>Every numeric option of every verb refuses NaN, ±Infinity and values out of its declared range when parsed.</summary>
public class OptionRangeTests
{
    static readonly Type[] Numeric =
        [typeof(int), typeof(long), typeof(float), typeof(double), typeof(int?), typeof(long?), typeof(float?), typeof(double?)];

    static IEnumerable<(Command Verb, Option Option)> NumericOptions() =>
        QzoCommand.Build().Subcommands.SelectMany(verb => verb.Options
            .Where(o => o.GetType().IsGenericType && Numeric.Contains(o.GetType().GetGenericArguments()[0]))
            .Select(o => (verb, o)));

    [Fact]
    public void EveryNumericOptionDeclaresItsRange()
    {
        var options = NumericOptions().ToList();
        Assert.True(options.Count > 50, $"found only {options.Count} numeric options");
        var undeclared = options.Where(p => OptionRanges.RuleOf(p.Option) is null).Select(p => $"{p.Verb.Name} {p.Option.Name}").ToList();
        Assert.True(undeclared.Count == 0, "no range: " + string.Join(", ", undeclared));
    }

    [Fact]
    public void NonFiniteAndOutOfRangeValuesAreParseErrorsNamingTheOption()
    {
        foreach (var (verb, option) in NumericOptions())
        {
            bool integral = option.GetType().GetGenericArguments()[0] is var t
                && (t == typeof(int) || t == typeof(int?) || t == typeof(long) || t == typeof(long?));
            var bad = integral ? new[] { "-1000000" } : new[] { "NaN", "Infinity", "-Infinity", "-1e30" };
            foreach (var value in bad)
            {
                var parsed = QzoCommand.Build().Parse([verb.Name, option.Name, value]);
                Assert.True(parsed.Errors.Any(e => e.Message.Contains(option.Name) || e.Message.Contains(value)),
                            $"qzo {verb.Name} {option.Name} {value}: accepted");
            }
        }
    }

    [Theory]
    [InlineData("sample", "--temperature", "NaN")]
    [InlineData("finetune", "--scale-floor", "NaN")]
    [InlineData("finetune", "--lr", "Infinity")]
    [InlineData("eval", "--batch-size", "0")]
    [InlineData("eval", "--max-length", "0")]
    [InlineData("generate", "--top-p", "1.5")]
    [InlineData("synth", "--hidden", "-4")]
    public void TheCommandStopsWithOneLineNamingTheOption(string verb, string option, string value)
    {
        var r = CliProcess.Run(verb, "some-model", option, value);
        CliAssert.FailsWithOneLine(r, option, value);
        Assert.Equal("", r.Stdout.Trim());
    }
}
