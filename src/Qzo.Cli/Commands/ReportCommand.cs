using System.CommandLine;
using Qzo.Cli.Runs;

namespace Qzo.Cli.Commands;

static class ReportCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run folders (written by `finetune --task` or `eval --task --run`)",
            Arity = ArgumentArity.OneOrMore };
        var command = new Command("report",
            "Print a Markdown table comparing runs: method, model, task, metric, steps, peak memory, wall time") { runs };
        command.SetAction(r => CommandRunner.Run(() => Console.Write(RunReport.Markdown(r.GetValue(runs)!))));
        return command;
    }
}
