using System.CommandLine;
using Qzo.Tasks.Definitions;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class TasksCommand
{
    public static Command Create()
    {
        var show = new Argument<string?>("task") { Description = "A built-in task or a task file: print its definition (checked) instead of the list", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("tasks", "List the built-in tasks (kind, metric, dataset), or print one task's definition") { show };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            if (r.GetValue(show) is string name)
            {
                var task = TaskCatalog.Resolve(name);
                Console.WriteLine(task.Source.ToJsonString(Qzo.Cli.Runs.Json.Indented));
                return;
            }
            var table = new Table().AddColumns("task", "kind", "metric", "dataset", "train/dev/test");
            foreach (var t in TaskCatalog.BuiltIn)
                table.AddRow(t.Name, t.KindName, t.MetricName, t.Dataset, $"{t.Sampling.Train}/{t.Sampling.Dev}/{t.Sampling.Eval}");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("A task file (YAML or JSON, the same keys: `qzo tasks NAME` prints one) works wherever --task takes a name.");
        }));
        return command;
    }
}
