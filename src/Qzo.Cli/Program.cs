using System.CommandLine;
using Qzo.Cli.Commands;

var root = new RootCommand("""
    Qzo: fine-tune quantized language models with zeroth-order optimization (QZO: only the quantization
    scales train, from two forward passes per step; no gradients, no optimizer state).
    Start with `qzo demo`; every verb has --help.
    """);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(SynthCommand.Create());
root.Subcommands.Add(QuantizeCommand.Create());
root.Subcommands.Add(FinetuneCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
return root.Parse(args).Invoke();
