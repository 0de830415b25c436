using System.Diagnostics;

namespace Qzo.Tests.Cli;

/// <summary>Runs the real `qzo` command (Qzo.Cli.dll from the test output folder) as a child process.</summary>
static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    /// <summary>Starts the command without waiting; its output is read and dropped.</summary>
    public static Process Start(params string[] args)
    {
        var process = Process.Start(Info(args))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static ProcessStartInfo Info(string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Qzo.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        return info;
    }

    public static Result Run(params string[] args) => Run(null, args);

    /// <summary>Runs with these environment variables set (HF_HOME, HF_ENDPOINT...) on top of the test's own.</summary>
    public static Result Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = Process.Start(Info(args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(true); throw new TimeoutException(string.Join(' ', args)); }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static Result Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }
}
