using System.Text.Json;
using System.Text.Json.Nodes;
using Qzo.Tasks.Data;
using Qzo.Tasks.Definitions;
using Qzo.Text;

namespace Qzo.Tasks;

/// <summary>
/// Turns a task's rows into items (checking the columns and labels) and items into token sequences the way MeZO's
/// encode_prompt does: prompt and completed text stripped of surrounding spaces, the answer's tokens being those of
/// encode(prompt + answer) beyond encode(prompt); demonstrations joined by the task's separator in front;
/// sequences over maxLength lose tokens on the left, keeping BOS.
/// </summary>
public sealed class TaskEncoder(TaskDefinition task, Tokenizer tokenizer, int maxLength)
{
    public TaskDefinition Task => task;

    public IReadOnlyList<TaskItem> Items(IReadOnlyList<TaskRow> rows) => rows.Select(Item).ToList();

    public TaskItem Item(TaskRow row)
    {
        foreach (var (column, type) in task.Columns)
        {
            if (!row.Has(column)) throw row.Error(column, "missing");
            var value = row.Get(column);
            if (!ColumnTypes.Matches(value, type)) throw row.Error(column, $"is {ColumnTypes.Describe(value)}, expected {type}");
        }
        string prompt = task.Template.Render(row);
        return task.Kind switch
        {
            TaskKind.Classification => new TaskItem(prompt, task.Verbalizers.Select(v => v.Value).ToList(), [LabelIndex(row)], [], null,
                row.Where),
            TaskKind.MultipleChoice => MultipleChoice(row, prompt),
            _ => Generation(row, prompt),
        };
    }

    int LabelIndex(TaskRow row)
    {
        string column = task.LabelColumns.FirstOrDefault(row.Has) ?? throw row.Error(task.LabelColumns[0], "missing (the label)");
        var value = row.Get(column);
        string key = value switch
        {
            null => throw row.Error(column, "is null; the label is needed"),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            JsonValue v when v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
            _ => throw row.Error(column, $"is {ColumnTypes.Describe(value)}, not a label"),
        };
        string canonical = task.LabelAliases.GetValueOrDefault(key, key);
        int index = task.Verbalizers.ToList().FindIndex(v => v.Key == canonical);
        if (index >= 0) return index;
        string known = string.Join(", ", task.Verbalizers.Select(v => $"{v.Key} ({JsonSerializer.Serialize(v.Value)})"));
        string hint = key == "-1" ? "; the published test splits are unlabelled (-1): test on the validation split, as MeZO does" : "";
        throw row.Error(column, $"has label {key}, which task '{task.Name}' does not know (labels: {known}){hint}");
    }

    TaskItem MultipleChoice(TaskRow row, string prompt)
    {
        var choices = new List<string>();
        if (task.CandidateColumns.Count == 1 && row.Get(task.CandidateColumns[0]) is JsonArray list)
            choices.AddRange(Strings(row, task.CandidateColumns[0], list).Distinct());
        else
            foreach (var column in task.CandidateColumns) choices.Add(String(row, column));
        if (choices.Count < 2) throw row.Error(task.CandidateColumns[0],
            $"gives {choices.Count} candidate(s); a choice needs at least two");
        var template = task.CandidateTemplate;
        var candidates = choices.Select(c => template is null ? " " + c : template.Render(row, candidate: c)).ToList();

        List<int> correct;
        string? labelColumn = task.LabelColumns.FirstOrDefault(row.Has);
        if (labelColumn is not null)
        {
            var value = row.Get(labelColumn);
            if (value is not JsonValue v || !v.TryGetValue<long>(out long label) || label < 0 || label >= choices.Count)
                throw row.Error(labelColumn, $"is {value?.ToJsonString() ?? "null"}, not a candidate index 0..{choices.Count - 1}" +
                                              (value?.ToJsonString() == "-1"
                                              ? "; the published test splits are unlabelled (-1): test on the validation split" : ""));
            correct = [(int)label];
        }
        else
        {
            string column = task.AnswersColumn ?? throw row.Error(task.LabelColumns.FirstOrDefault() ?? "label", "missing (the label)");
            var answers = row.Get(column) as JsonArray ?? throw row.Error(column, "missing or not a list (the correct answers)");
            var gold = Strings(row, column, answers).ToHashSet();
            correct = choices.Select((c, i) => (c, i)).Where(x => gold.Contains(x.c)).Select(x => x.i).ToList();
            if (correct.Count == 0) throw row.Error(column, "names no candidate (none of the answers is among the candidates)");
        }
        return new TaskItem(prompt, candidates, correct, [], null, row.Where);
    }

    TaskItem Generation(TaskRow row, string prompt)
    {
        string column = task.AnswersColumn!;
        var answers = row.Get(column) is JsonArray a ? Strings(row, column, a).ToList()
            : row.Get(column) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? [v.GetValue<string>()]
            : throw row.Error(column, "missing or not a list of answers");
        if (answers.Count == 0) throw row.Error(column, "is an empty list; every row needs at least one gold answer");
        return new TaskItem(prompt, [], [], answers, task.Target!.Render(row, answer: answers[0]), row.Where);
    }

    static IEnumerable<string> Strings(TaskRow row, string column, JsonArray array) =>
        array.Select(n => n?.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : throw row.Error(column,
            $"holds {ColumnTypes.Describe(n)}, expected text"));

    static string String(TaskRow row, string column) =>
        row.Get(column) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw row.Error(column,
            "missing or not text");

    /// <summary>
    /// The in-context demonstrations in front of each evaluated prompt ("" for zero-shot): as MeZO, each completed
    /// example stripped of all surrounding whitespace (a generation target's newline too), joined by the separator.
    /// </summary>
    public string Demonstrations(IReadOnlyList<TaskItem> demonstrations) =>
        demonstrations.Count == 0 ? "" : string.Join(task.DemonstrationSeparator, demonstrations.Select(d => d.Completed.Trim()))
            .Trim() + task.DemonstrationSeparator;

    /// <summary>The training sequence(s) of an item, by the task's objective.</summary>
    public Example TrainingExample(TaskItem item) =>
        item.IsGeneration || task.TrainObjective == TrainObjective.Answer
            ? Completion("", item.Prompt, item.Completed, item.Where)
            : Choices(item, "");

    public ChoiceExample Choices(TaskItem item, string demonstrations) =>
        new(item.Candidates.Select(c => Completion(demonstrations, item.Prompt, item.Prompt + c, item.Where)).ToArray(),
            item.Correct[0], item.Correct.Count > 1 ? item.Correct.ToArray() : null);

    /// <summary>
    /// The text a generation starts from, within maxLength − <paramref name="newTokens"/> tokens: as written when it
    /// fits, else its tokens truncated on the left (BOS kept) and decoded.
    /// </summary>
    public string GenerationPrompt(TaskItem item, string demonstrations, int newTokens)
    {
        string text = demonstrations + item.Prompt.Trim(' ');
        var ids = tokenizer.Encode(text);
        int limit = Math.Max(2, maxLength - newTokens);
        return ids.Length <= limit ? text : tokenizer.Decode(JsonlDataset.Truncate(ids, new bool[ids.Length], limit, tokenizer.BosId).Ids);
    }

    SequenceExample Completion(string demonstrations, string prompt, string completed, string where)
    {
        prompt = prompt.Trim(' ');
        completed = completed.Trim(' ');
        int answerTokens = tokenizer.Encode(completed).Length - tokenizer.Encode(prompt).Length;
        if (answerTokens <= 0) throw new QzoException($"{where}: the answer is empty after tokenization ('{completed}')");
        var ids = tokenizer.Encode(demonstrations + completed);
        var scored = new bool[ids.Length];
        for (int i = Math.Max(0, ids.Length - answerTokens); i < ids.Length; i++) scored[i] = true;
        var example = JsonlDataset.Truncate(ids, scored, maxLength, tokenizer.BosId);
        // Truncation keeps the answer unless maxLength leaves no token after BOS; then every row of the task is alike.
        return example.PredictedCount > 0 ? example
            : throw new QzoException($"{where}: nothing to score within --max-length {maxLength} (the answer's tokens are cut off)");
    }
}
