using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>
/// Runs a verb's body: a <see cref="QzoException"/> (bad input) prints one line and exits 1;
/// anything else is a bug and prints its stack trace, exit 2.
/// </summary>
static class CommandRunner
{
    public static int Run(Action body)
    {
        try
        {
            body();
            return 0;
        }
        catch (QzoException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"internal error: {e}");
            return 2;
        }
    }

    public static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
}
