namespace Qzo.Tests.Tasks;

/// <summary>The task fixtures (tests/fixtures/tasks, written by its generator) in the test output folder.</summary>
static class TaskFixtures
{
    public static readonly string[] Tasks = ["boolq", "cb", "copa", "drop", "multirc", "record", "rte", "squad", "sst2", "wic", "wsc"];

    public static string Parquet(string task) => TestPaths.Fixture("tasks", "parquet", task);
    public static string Jsonl(string task) => TestPaths.Fixture("tasks", "jsonl", task);
    public static string ParquetFile(string task, string split) => Path.Combine(Parquet(task), $"{split}-00000-of-00001.parquet");
}
