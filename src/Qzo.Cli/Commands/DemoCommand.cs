using System.CommandLine;

namespace Qzo.Cli.Commands;

static class DemoCommand
{
    public static Command Create()
    {
        var d = new DemoRunner.Settings();
        var work = new Option<string?>("--work")
            { Description = "Folder for the demo's checkpoints and data (default: a temporary folder, deleted afterwards)" };
        var steps = new Option<int>("--steps") { Description = "QZO steps", DefaultValueFactory = _ => d.Steps }.Positive();
        var lr = new Option<float>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => d.LearningRate }.Positive();
        var eps = new Option<float>("--eps") { Description = "Perturbation size ε", DefaultValueFactory = _ => d.Epsilon }.Positive();
        var bits = new Option<int>("--bits") { Description = "Bits of the coarse quantization the tuning repairs",
            DefaultValueFactory = _ => d.Bits }.OneOf(2, 3, 4, 8);
        var groupSize = new Option<int>("--group-size") { Description = "GPTQ group size",
            DefaultValueFactory = _ => d.GroupSize }.GroupSize();
        var seed = new Option<ulong>("--seed") { Description = "Seed of the model, the data and the run",
            DefaultValueFactory = _ => d.Seed };
        var directions = new Option<int>("--directions")
            { Description = "Directions probed per step, their estimates averaged (each costs two forward passes)",
            DefaultValueFactory = _ => d.Directions }.Positive();
        var noControl = new Option<bool>("--no-control") { Description = "Skip the random-sign control run" };
        var force = new Option<bool>("--force") { Description = "Clear the --work folder first if it holds files" };
        var device = new Option<string>("--device") { Description = "cpu (the default: small and deterministic), cuda, or auto",
            DefaultValueFactory = _ => d.Device };
        var command = new Command("demo", """
            The whole QZO loop on a small built-in example, on the CPU: synthesize a Llama model (the teacher), quantize it
            coarsely with RTN (the student), sample text from the teacher, fine-tune the student's scales with QZO to recover
            the teacher's outputs, and compare held-out loss before and after against a control run that takes the same steps
            along the same directions with random signs.
            """)
        {
            work, steps, lr, eps, bits, groupSize, seed, directions, noControl, device, force,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            using var outputs = CommonOptions.Outputs();
            var settings = d with
            {
                Work = r.GetValue(work) is string folder ? outputs.WorkFolder(folder, "--work", r.GetValue(force)) : null,
                    Steps = r.GetValue(steps), LearningRate = r.GetValue(lr), Epsilon = r.GetValue(eps),
                Bits = r.GetValue(bits), GroupSize = r.GetValue(groupSize), Seed = r.GetValue(seed), Control = !r.GetValue(noControl),
                Directions = r.GetValue(directions),
                    Device = r.GetValue(device)!,
            };
            DemoRunner.Run(settings);
        }));
        return command;
    }
}
