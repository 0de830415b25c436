using System.Text.Json.Nodes;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using Qzo.Tasks.Data;

namespace Qzo.Tests.Tasks;

public class ParquetRowsTests
{
    [Fact]
    public void FixturesHaveTheHubsColumnsAndTypes()
    {
        // The schemas of the Hub's Parquet conversion: ClassLabel as int64, idx int32, Sequence of a dict as a struct of lists.
        Assert.Equal(["sentence: string", "label: long", "idx: int"], Columns("sst2"));
        Assert.Equal(["premise: string", "hypothesis: string", "idx: int", "label: long"], Columns("rte"));
        Assert.Equal(["id: string", "title: string", "context: string", "question: string",
                      "answers: struct<text: list<string>, answer_start: list<int>>"], Columns("squad"));
        Assert.Equal(["section_id: string", "query_id: string", "passage: string", "question: string",
                      "answers_spans: struct<spans: list<string>, types: list<string>>"], Columns("drop"));
        Assert.Equal(["passage: string", "query: string", "entities: list<string>",
                      "entity_spans: struct<text: list<string>, start: list<int>, end: list<int>>", "answers: list<string>",
                      "idx: struct<passage: int, query: int>"], Columns("record"));
        Assert.Equal(["paragraph: string", "question: string", "answer: string", "idx: struct<paragraph: int, question: int, answer: int>",
                      "label: long"], Columns("multirc"));
    }

    [Theory]
    [MemberData(nameof(TaskNames))]
    public void ParquetRowsEqualTheirJsonlExport(string task)
    {
        foreach (var split in new[] { "train", "validation" })
        {
            var parquet = ParquetRows.Read(TaskFixtures.ParquetFile(task, split));
            var jsonl = JsonlRows.Read(Path.Combine(TaskFixtures.Jsonl(task), $"{split}.jsonl"));
            Assert.Equal(jsonl.Count, parquet.Count);
            for (int i = 0; i < parquet.Count; i++)
                Assert.True(JsonNode.DeepEquals(jsonl[i].Fields, parquet[i].Fields),
                    $"{task} {split} row {i}:\n{parquet[i].Fields.ToJsonString()}\n{jsonl[i].Fields.ToJsonString()}");
            Assert.EndsWith(": row 0", parquet[0].Where);
        }
    }

    public static TheoryData<string> TaskNames() => new(TaskFixtures.Tasks);

    [Fact]
    public async Task EmptyListsAndShardsReadBack()
    {
        using var folder = new TempFolder();
        var rows = new List<ShardRow>
        {
            new() { text = "a", spans = new() { spans = [], types = [] } },
            new() { text = "b", spans = new() { spans = ["x", "y"], types = ["span", "span"] } },
        };
        await ParquetSerializer.SerializeAsync(rows.Take(1), folder["train-00000-of-00002.parquet"]);
        await ParquetSerializer.SerializeAsync(rows.Skip(1), folder["train-00001-of-00002.parquet"]);
        var read = TaskDataFolder.ReadSplit(folder.Path, "train");
        Assert.Equal("""{"text":"a","spans":{"spans":[],"types":[]}}""", read[0].Fields.ToJsonString());
        Assert.Equal("""{"text":"b","spans":{"spans":["x","y"],"types":["span","span"]}}""", read[1].Fields.ToJsonString());
        Assert.Contains("train-00001-of-00002.parquet: row 0", read[1].Where);
    }

    [Fact]
    public void ANonParquetFileIsRefusedByName()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder["train.parquet"], "not parquet");
        var e = Assert.Throws<QzoException>(() => ParquetRows.Read(folder["train.parquet"]));
        Assert.Contains("train.parquet: not a readable Parquet file", e.Message);
    }

    static List<string> Columns(string task)
    {
        var reader = ParquetReader.CreateAsync(TaskFixtures.ParquetFile(task, "train")).GetAwaiter().GetResult();
        try { return reader.Schema.Fields.Select(f => $"{f.Name}: {Describe(f)}").ToList(); }
        finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    static string Describe(Field f) => f switch
    {
        StructField s => $"struct<{string.Join(", ", s.Fields.Select(c => $"{c.Name}: {Describe(c)}"))}>",
        ListField l => $"list<{Describe(l.Item)}>",
        DataField d when d.ClrType == typeof(ReadOnlyMemory<char>) || d.ClrType == typeof(string) => "string",
        DataField d => d.ClrType == typeof(long) ? "long" : d.ClrType == typeof(int) ? "int" : d.ClrType.Name,
        _ => f.SchemaType.ToString(),
    };

    public sealed class ShardSpans { public List<string>? spans { get; set; } public List<string>? types { get; set; } }
    public sealed class ShardRow { public string? text { get; set; } public ShardSpans? spans { get; set; } }
}
