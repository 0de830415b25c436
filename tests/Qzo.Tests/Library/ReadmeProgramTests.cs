using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Qzo.Models;
using Qzo.Tests.Models;

namespace Qzo.Tests.Library;

/// <summary>README.md's library example, compiled from the README's own text and run on a synthesized GPTQ model.</summary>
public class ReadmeProgramTests
{
    const string Start = "<!-- library-example -->", End = "<!-- /library-example -->";

    // What `dotnet new console` adds through ImplicitUsings, which the README's program relies on as a console project would.
    const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    [Fact]
    public void TheReadmeProgramCompilesRunsAndSavesATunedModel()
    {
        using var folder = new TempFolder();
        string model = TinyModels.Gptq(folder, bits: 2, groupSize: 32);
        var random = new Random(3);
        string Rows(string name, int count)
        {
            string path = folder[name];
            File.WriteAllLines(path, Enumerable.Range(0, count).Select(_ =>
                new JsonObject { ["input_ids"] = new JsonArray(Enumerable.Range(0, 12).Select(_ => (JsonNode)random.Next(320)).ToArray()) }
                    .ToJsonString()));
            return path;
        }
        string train = Rows("train.jsonl", 16), validation = Rows("validation.jsonl", 8), output = folder["tuned"];

        var entry = Compile(ReadmeProgram());
        var printed = new StringWriter();
        var console = Console.Out;
        Console.SetOut(printed);
        try { entry.Invoke(null, [new[] { model, train, validation, output }]); }
        finally { Console.SetOut(console); }

        string text = printed.ToString();
        Assert.Matches(@"^[\d,]+ trainable values on (cpu|cuda)", text);
        Assert.Contains("step 40/40: L+ ", text);
        Assert.Matches(@"validation loss \d+\.\d{4} -> \d+\.\d{4} \(kept step (0|20|40)\)", text);
        using var before = Checkpoint.Open(model);
        using var after = Checkpoint.Open(output);
        const string scales = "model.layers.0.self_attn.q_proj.scales";
        Assert.Equal(before.Tensors.ReadInt32("model.layers.0.self_attn.q_proj.qweight"),
                     after.Tensors.ReadInt32("model.layers.0.self_attn.q_proj.qweight"));
        bool kept0 = text.Contains("(kept step 0)");
        Assert.Equal(kept0, before.Tensors.FileOf(scales).GetBytes(scales).SequenceEqual(after.Tensors.FileOf(scales).GetBytes(scales)));
    }

    /// <summary>The C# between README.md's markers, without the code fence.</summary>
    static string ReadmeProgram()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        int start = readme.IndexOf(Start, StringComparison.Ordinal), end = readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"README.md has no {Start} ... {End} block");
        var lines = readme[(start + Start.Length)..end].Trim().Split('\n');
        Assert.Equal("```csharp", lines[0]);
        Assert.Equal("```", lines[^1]);
        return string.Join('\n', lines[1..^1]);
    }

    /// <summary>Compiles a console program against this process's assemblies (the framework and Qzo.dll); its entry point.</summary>
    static MethodInfo Compile(string program)
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Append(typeof(QzoModel).Assembly.Location).Distinct().Select(path => MetadataReference.CreateFromFile(path));
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("ReadmeProgram",
            [CSharpSyntaxTree.ParseText(program, options, "README.md"), CSharpSyntaxTree.ParseText(ImplicitUsings, options)],
            references, new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(emitted.Success && problems.Count == 0, string.Join("\n", problems));
        return Assembly.Load(image.ToArray()).EntryPoint!;
    }

    static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "Qzo.sln"))) return folder.FullName;
        throw new InvalidOperationException($"no Qzo.sln above {AppContext.BaseDirectory}");
    }
}
