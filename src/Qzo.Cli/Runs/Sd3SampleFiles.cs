using System.Text.Json.Nodes;
using Qzo.Diffusion.Training;
using Qzo.Imaging;

namespace Qzo.Cli.Runs;

/// <summary>
/// A run's sample grids on disk: samples/prompts.json (the captions and seeds), and for each evaluation
/// samples/step-NNNNNN/p{prompt}-s{seed}.png plus the contact sheet samples/step-NNNNNN.png (rows prompts, columns seeds).
/// </summary>
static class Sd3SampleFiles
{
    public static void WritePrompts(string run, Sd3SampleGrid grid)
    {
        Directory.CreateDirectory(Path.Combine(run, RunFolder.Samples));
        Qzo.IO.AtomicFile.WriteAllText(Path.Combine(run, RunFolder.Samples, "prompts.json"), new JsonObject
        {
            ["prompts"] = new JsonArray(grid.Prompts.Select(p => (JsonNode)p).ToArray()),
            ["seeds"] = new JsonArray(grid.Seeds.Select(s => (JsonNode)s).ToArray()),
        }.ToJsonString(Json.Indented) + "\n");
    }

    /// <returns>the contact sheet's path</returns>
    public static string Render(string run, Sd3SampleGrid grid, string label)
    {
        var images = grid.Render();
        string folder = Path.Combine(run, RunFolder.Samples, label);
        Directory.CreateDirectory(folder);
        for (int p = 0; p < grid.Prompts.Count; p++)
            for (int s = 0; s < grid.Seeds.Count; s++)
                ImageFiles.WritePng(images[p * grid.Seeds.Count + s], Path.Combine(folder, $"p{p}-s{grid.Seeds[s]}.png"));
        string sheet = folder + ".png";
        ImageFiles.WritePng(grid.ContactSheet(images), sheet);
        return sheet;
    }

    public static string StepLabel(int step) => $"step-{step:D6}";
}
