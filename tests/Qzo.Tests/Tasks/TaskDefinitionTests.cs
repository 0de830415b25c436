using System.Text.Json.Nodes;
using Qzo.Tasks.Data;
using Qzo.Tasks.Definitions;

namespace Qzo.Tests.Tasks;

public class TaskDefinitionTests
{
    static TaskRow Row(string json) => new(JsonNode.Parse(json)!.AsObject(), "test row");

    [Fact]
    public void BuiltInTasksAreThePapersWithTheirKindsAndMetrics()
    {
        var tasks = TaskCatalog.BuiltIn.ToDictionary(t => t.Name);
        Assert.Equal(TaskFixtures.Tasks, tasks.Keys.Order());
        foreach (var name in new[] { "sst2", "rte", "cb", "boolq", "wsc", "wic", "multirc" })
            Assert.Equal((TaskKind.Classification, TaskMetric.Accuracy), (tasks[name].Kind, tasks[name].Metric));
        Assert.Equal(TaskKind.MultipleChoice, tasks["copa"].Kind);
        Assert.Equal(TaskKind.MultipleChoice, tasks["record"].Kind);
        Assert.Equal((TaskKind.Generation, TaskMetric.F1), (tasks["squad"].Kind, tasks["squad"].Metric));
        Assert.Equal((TaskKind.Generation, TaskMetric.F1), (tasks["drop"].Kind, tasks["drop"].Metric));
        Assert.Equal(100, tasks["cb"].Sampling.Dev);
        Assert.Equal(new MethodDefaults(1e-7f, 1e-3f, 20_000, 16, 100f, 4_000), tasks["sst2"].Hyperparameters["qzo"]);
        Assert.Null(tasks["sst2"].Hyperparameters["mezo"].Clip);
    }

    [Theory]
    [InlineData("sst2", """{"sentence": "a gripping film", "label": 1}""", "a gripping film It was", " terrible| great")]
    [InlineData("rte", """{"premise": "P.", "hypothesis": "H", "label": 0}""", "P.\nDoes this mean that \"H\" is true? Yes or No?\n",
                "Yes|No")]
    [InlineData("cb", """{"premise": "P.", "hypothesis": "H", "label": 2}""", "Suppose P. Can we infer that \"H\"? Yes, No, or Maybe?\n",
                "Yes|No|Maybe")]
    [InlineData("boolq", """{"passage": "Pass.", "question": "is it", "label": 1}""", "Pass. Is it?\n", "No|Yes")]
    [InlineData("multirc", """{"paragraph": "Par.", "question": "Q?", "answer": "A", "label": 0}""",
                "Par.\nQuestion: Q?\nI found this answer \"A\". Is that correct? Yes or No?\n", "No|Yes")]
    [InlineData("wic", """{"word": "bank", "sentence1": "S1.", "sentence2": "S2.", "label": 0}""",
                "Does the word \"bank\" have the same meaning in these two sentences? Yes, No?\nS1.\nS2.\n", "No|Yes")]
    [InlineData("wsc", """{"text": "T.", "span1_text": "The trophy", "span2_text": "It", "label": 1}""",
                "T.\nIn the previous sentence, does the pronoun \"it\" refer to The trophy? Yes or No?\n", "No|Yes")]
    [InlineData("copa", """{"premise": "My hands were cold. ", "choice1": "I forgot my gloves.", "choice2": "Snow fell.",""" +
                """ "question": "cause", "label": 0}""", "My hands were cold because", " I forgot my gloves.| snow fell.")]
    [InlineData("copa", """{"premise": "I tipped the bottle.", "choice1": "It poured.", "choice2": "It froze.", "question": "effect",""" +
                """ "label": 1}""", "I tipped the bottle so", " it poured.| it froze.")]
    [InlineData("squad", """{"title": "T", "context": "C.", "question": " Q? ", "answers": {"text": ["a"], "answer_start": [0]}}""",
                "Title: T\nContext: C.\nQuestion: Q?\nAnswer:", "")]
    [InlineData("drop", """{"passage": "P.", "question": "Q?", "answers_spans": {"spans": ["3"], "types": ["number"]}}""",
                "Passage: P.\nQuestion: Q?\nAnswer:", "")]
    public void PromptsAndCandidatesAreMezos(string task, string row, string prompt, string candidates)
    {
        var definition = TaskCatalog.Resolve(task);
        var item = new Qzo.Tasks.TaskEncoder(definition,
            Qzo.Text.Tokenizer.FromJson(Qzo.Text.TokenizerSynthesizer.BuildTokenizerJson(320, Qzo.Text.TokenizerSynthesizer.BuiltInCorpus)),
            2048).Item(Row(row));
        Assert.Equal(prompt, item.Prompt);
        Assert.Equal(candidates, string.Join("|", item.Candidates));
    }

    [Fact]
    public void RecordFillsThePlaceholderAndAcceptsEveryGoldEntity()
    {
        var row = Row("""{"passage": "A won.\n@highlight\nB lost", "query": "Fans of @placeholder cheered.",""" +
            """ "entities": ["A", "B", "A"], "answers": ["A", "B"]}""");
        var item = new Qzo.Tasks.TaskEncoder(TaskCatalog.Resolve("record"),
            Qzo.Text.Tokenizer.FromJson(Qzo.Text.TokenizerSynthesizer.BuildTokenizerJson(320, Qzo.Text.TokenizerSynthesizer.BuiltInCorpus)),
            2048).Item(row);
        Assert.Equal("A won.\n- B lost\n-", item.Prompt);
        Assert.Equal([" Fans of A cheered.", " Fans of B cheered."], item.Candidates);
        Assert.Equal([0, 1], item.Correct);
    }

    [Fact]
    public void AUserTaskFileWorksLikeABuiltInOne()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["mood.yaml"], """
            name: mood
            kind: classification
            columns: {text: string}
            template: "{text|strip} Mood:"
            label: mood
            verbalizers: {happy: " happy", sad: " sad"}
            hyperparameters:
              qzo: {lr: 2.0e-6, steps: 7}
            """);
        var task = TaskCatalog.Resolve(folder["mood.yaml"]);
        Assert.Equal((TaskKind.Classification, TaskMetric.Accuracy), (task.Kind, task.Metric));
        Assert.Equal(new MethodDefaults(2e-6f, 1e-3f, 7, 16, 100f, 4000), task.Hyperparameters["qzo"]);
        Assert.Equal(folder["mood.yaml"], task.Origin);
        var item = new Qzo.Tasks.TaskEncoder(task,
            Qzo.Text.Tokenizer.FromJson(Qzo.Text.TokenizerSynthesizer.BuildTokenizerJson(320, Qzo.Text.TokenizerSynthesizer.BuiltInCorpus)),
            2048).Item(Row("""{"text": " sunny day ", "mood": "sad"}"""));
        Assert.Equal("sunny day Mood:", item.Prompt);
        Assert.Equal([1], item.Correct);
        // JSON works too, and reads back from config.json the same way.
        var again = TaskDefinitionReader.Parse(task.Source.ToJsonString(), "config.json", "x");
        Assert.Equal(task.Template.Text, again.Template.Text);
    }

    [Theory]
    [InlineData("name: t\nkind: classification\ntemplate: '{x}'\nlabel: l\nverbalizers: {0: a, 1: b}\ncolour: red",
                "t.yaml: 'colour' is not a task key")]
    [InlineData("name: t\nkind: sorting\ntemplate: '{x}'",
                "t.yaml: 'kind' must be classification, multiple_choice or generation, not 'sorting'")]
    [InlineData("name: t\nkind: classification\ntemplate: '{x|shout}'\nlabel: l\nverbalizers: {0: a, 1: b}",
                "t.yaml: 'template' uses an unknown filter 'shout'")]
    [InlineData("name: t\nkind: classification\ntemplate: '{x'\nlabel: l\nverbalizers: {0: a, 1: b}",
                "t.yaml: 'template' has an unclosed '{'")]
    [InlineData("name: t\nkind: generation\ntemplate: '{x}'\nanswers: a", "t.yaml: 'target' is the training target")]
    [InlineData("name: t\nkind: classification\ntemplate: '{x}'\nlabel: l\nverbalizers: {0: a}",
                "t.yaml: 'verbalizers' must map at least two")]
    [InlineData("name: t\nkind: classification\ntemplate: '{x}'\nlabel: l\nverbalizers: {0: a, 1: b}\n" +
                "hyperparameters: {qzo: {lr: fast}}", "t.yaml: 'hyperparameters.qzo.lr' must be a number")]
    [InlineData("name: [t", "t.yaml: not valid YAML")]
    public void BadDefinitionsAreRefusedWithTheKeyNamed(string yaml, string message)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["t.yaml"], yaml);
        var e = Assert.Throws<QzoException>(() => TaskDefinitionReader.ReadFile(folder["t.yaml"]));
        Assert.Contains(message, e.Message.Replace(folder.Path + "/", ""));
    }
}
