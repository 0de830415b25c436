using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>A progress bar on a terminal; plain periodic lines when output goes to a file or CI log.</summary>
static class ProgressDisplay
{
    public static T Run<T>(string description, Func<Action<double, string?>, T> work)
    {
        if (!CommandRunner.Interactive)
        {
            var last = DateTime.MinValue;
            return work((fraction, status) =>
            {
                if (fraction < 1 && (DateTime.UtcNow - last).TotalSeconds < 5) return;
                last = DateTime.UtcNow;
                Console.WriteLine($"{description}: {fraction * 100,5:F1}% {status}");
            });
        }
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(description, maxValue: 1.0);
                result = work((fraction, status) =>
                {
                    task.Value = Math.Min(fraction, 1.0);
                    if (status is not null) task.Description = $"{description} {Markup.Escape(status)}";
                });
                task.Value = 1.0;
            });
        return result;
    }

    public static void Run(string description, Action<Action<double, string?>> work) =>
        Run<bool>(description, report => { work(report); return true; });
}
