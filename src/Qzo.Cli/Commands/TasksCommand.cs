using System.CommandLine;
using System.Text.Json.Nodes;
using Qzo.Tasks;
using Qzo.Tasks.Data;
using Qzo.Tasks.Definitions;
using Spectre.Console;

namespace Qzo.Cli.Commands;

static class TasksCommand
{
    public static Command Create()
    {
        var show = new Argument<string?>("task")
            { Description = "A built-in task or a task file: print its definition (checked) instead of the list",
            Arity = ArgumentArity.ZeroOrOne };
        var data = new Option<string?>("--data") { Description = "With a task: a dataset folder to look into with --rows or --prompts" };
        var rows = new Option<string?>("--rows")
            { Description = "Print the rows of this split (train, validation, test) as read, one JSON object a line" };
        var prompts = new Option<string?>("--prompts")
            { Description =
            "Print this split's items as the model sees them (prompt, candidates, correct, answers), one JSON object a line" };
        var command = new Command("tasks",
            "List the built-in tasks (kind, metric, dataset), print one task's definition, or look at its data")
            { show, data, rows, prompts };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            if (r.GetValue(show) is not string name)
            {
                var table = new Table().AddColumns("task", "kind", "metric", "dataset", "train/dev/test");
                foreach (var t in TaskCatalog.BuiltIn)
                    table.AddRow(t.Name, t.KindName, t.MetricName, t.Dataset, $"{t.Sampling.Train}/{t.Sampling.Dev}/{t.Sampling.Eval}");
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine(
                    "A task file (YAML or JSON, the same keys: `qzo tasks NAME` prints one) works wherever --task takes a name.");
                return;
            }
            var task = TaskCatalog.Resolve(name);
            string? split = r.GetValue(rows) ?? r.GetValue(prompts);
            if (split is null)
            {
                Console.WriteLine(task.Source.ToJsonString(Runs.Json.Indented));
                return;
            }
            string folder = r.GetValue(data) ?? throw new QzoException("--rows and --prompts need --data (the dataset folder)");
            var read = TaskDataFolder.ReadSplit(folder, split);
            if (r.GetValue(rows) is not null)
            {
                foreach (var row in read) Console.WriteLine(row.Fields.ToJsonString(Runs.Json.Compact));
                return;
            }
            // Only the text matters here, so any tokenizer will do; the synthesized one needs no checkpoint.
            var tokenizer = Qzo.Text.Tokenizer.FromJson(Qzo.Text.TokenizerSynthesizer.BuildTokenizerJson(512,
                Qzo.Text.TokenizerSynthesizer.BuiltInCorpus));
            foreach (var item in new TaskEncoder(task, tokenizer, int.MaxValue).Items(read))
                Console.WriteLine(new JsonObject
                {
                    ["row"] = item.Where, ["prompt"] = item.Prompt,
                    ["candidates"] = new JsonArray(item.Candidates.Select(c => (JsonNode)c).ToArray()),
                    ["correct"] = new JsonArray(item.Correct.Select(c => (JsonNode)c).ToArray()),
                    ["answers"] = new JsonArray(item.Answers.Select(a => (JsonNode)a).ToArray()), ["target"] = item.Target,
                }.ToJsonString(Runs.Json.Compact));
        }));
        return command;
    }
}
