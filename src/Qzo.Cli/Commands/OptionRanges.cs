using System.CommandLine;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Qzo.Cli.Commands;

/// <summary>
/// The range of each numeric option, checked when the command line is parsed: NaN and ±Infinity are never accepted,
/// and zero or negative values only where they mean something. Every numeric option declares one (a test walks the
/// command tree), so a value that makes no sense stops the command with one line naming the option, before any work.
/// </summary>
static class OptionRanges
{
    static readonly ConditionalWeakTable<Option, string> Rules = new();

    /// <summary>The rule an option declared, e.g. "> 0"; null if it declared none.</summary>
    public static string? RuleOf(Option option) => Rules.TryGetValue(option, out var rule) ? rule : null;

    public static Option<T> Positive<T>(this Option<T> option) => option.Range(v => v > 0, "> 0");

    public static Option<T> NonNegative<T>(this Option<T> option) => option.Range(v => v >= 0, "≥ 0");

    public static Option<T> AtLeast<T>(this Option<T> option, int min) => option.Range(v => v >= min, $"≥ {min}");

    public static Option<T> OneOf<T>(this Option<T> option, params int[] allowed) =>
        option.Range(v => allowed.Contains((int)v) && v == Math.Floor(v), string.Join(", ", allowed[..^1]) + " or " + allowed[^1]);

    public static Option<T> GroupSize<T>(this Option<T> option) => option.Range(v => v == -1 || v >= 1, "-1 (one group per row) or ≥ 1");

    public static Option<T> Range<T>(this Option<T> option, Func<double, bool> allowed, string rule)
    {
        Rules.AddOrUpdate(option, rule);
        option.Validators.Add(result =>
        {
            if (result.Implicit || result.Tokens.Count == 0) return;
            object? value;
            try { value = result.GetValueOrDefault<T>(); }
            catch (InvalidOperationException) { return; } // the parser reports a token it could not read
            if (value is null) return;
            double number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
            if (!double.IsFinite(number) || !allowed(number))
                result.AddError($"{option.Name} must be {rule}, got {result.Tokens[^1].Value}");
        });
        return option;
    }
}
