using System.CommandLine;

namespace Qzo.Cli.Commands;

/// <summary>The options `eval` and `finetune` share for running a task on its published data.</summary>
sealed class TaskOptions
{
    public Option<string?> Task { get; } = new("--task")
        { Description = "A built-in task (see `qzo tasks`) or a task definition file (.yaml/.json)" };
    public Option<string?> Data { get; } = new("--data")
        { Description = "With --task: the dataset folder (Hub Parquet files or JSONL exports: train*.parquet, validation*.parquet, ...), " +
                        "or a Hub dataset id (glue, nyu-mll/glue) taken from the Hugging Face cache or downloaded into it" };
    public Option<string?> Subset { get; } = new("--subset")
        { Description = "With a Hub dataset id: its subset (config), e.g. sst2 of glue (default: default)" };
    public Option<string?> DataRevision { get; } = new("--data-revision")
        { Description = "With a Hub dataset id: the branch, tag or commit (default: main, then the refs/convert/parquet export)" };
    public Option<string> Sampling { get; } = new("--sampling")
    {
        Description =
            "mezo: train/dev drawn from the train split and test from the validation split with numpy's seeded permutation (MeZO's " +
            "protocol); " +
                      "splits: train, validation (as dev) and test files as they are",
        DefaultValueFactory = _ => "mezo",
    };
    public Option<int?> NumTrain { get; } = new Option<int?>("--num-train")
        { Description = "mezo sampling: training examples (task default, 1000)" }.NonNegative();
    public Option<int?> NumDev { get; } = new Option<int?>("--num-dev")
        { Description = "mezo sampling: dev examples, the end of the train sample (task default, 500; CB and COPA 100)" }.NonNegative();
    public Option<int?> NumEval { get; } = new Option<int?>("--num-eval")
        { Description = "mezo sampling: test examples from the validation split (task default, 1000)" }.NonNegative();
    public Option<uint> DataSeed { get; } = new("--data-seed")
        { Description = "mezo sampling: numpy seed of the train permutation (MeZO's train_set_seed)", DefaultValueFactory = _ => 0u };
    public Option<int?> MaxNewTokens { get; } = new Option<int?>("--max-new-tokens")
        { Description = "Generation tasks: tokens to decode at most (task default, 50)" }.Positive();
    public Option<string?> Run { get; } = new("--run")
        { Description = "Run folder for config.json, metrics.jsonl, results.json, plots (and the tuned model)" };

    public IEnumerable<Option> All => [Task, Data, Subset, DataRevision, Sampling, NumTrain, NumDev, NumEval, DataSeed, MaxNewTokens, Run];

    /// <summary>The data folder for a task run: --data as given, or the cache folder of a Hub dataset id.</summary>
    public string DataFolder(ParseResult r, string data) =>
        HubArguments.Data(data, r.GetValue(Subset), r.GetValue(DataRevision), r.GetValue(Sampling)!);
}
