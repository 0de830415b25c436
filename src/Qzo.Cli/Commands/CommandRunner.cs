using Spectre.Console;

namespace Qzo.Cli.Commands;

/// <summary>
/// Runs a verb's body: a <see cref="QzoException"/> (bad input) prints one line and exits 1, as does a failed
/// read or write the code did not name itself (the file system's own message names the file); anything else is a bug
/// and prints its stack trace, exit 2.
/// </summary>
static class CommandRunner
{
    public static int Run(Action body)
    {
        try
        {
            _ = Qzo.Compute.OperationProfile.Current; // a bad QZO_PROFILE stops here, before any work
            body();
            return 0;
        }
        catch (QzoException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (Qzo.IO.IoFailure.Is(e))
        {
            Console.Error.WriteLine($"error: {Qzo.IO.IoFailure.Describe(e)}");
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
