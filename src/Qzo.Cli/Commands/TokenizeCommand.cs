using System.CommandLine;
using System.Text.Json;
using Qzo.Text;

namespace Qzo.Cli.Commands;

static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer")
            { Description = "Folder holding tokenizer.json, tokenizer.model or vocab.json + merges.txt (and tokenizer_config.json)" +
                            HubArguments.ModelHelp, Required = true };
        var revision = HubArguments.Revision();
        var text = new Argument<string>("text") { Description = "Text to encode, or with --decode a JSON array of token ids" };
        var decode = new Option<bool>("--decode") { Description = "Turn a JSON array of ids back into text" };
        var noSpecial = new Option<bool>("--no-special") { Description = "Encode without BOS/EOS; decode keeping special tokens" };
        var command = new Command("tokenize", "Print the token ids of a text as a JSON array (or, with --decode, the text of ids)")
        {
            tokenizer, revision, text, decode, noSpecial,
        };
        command.SetAction(r => CommandRunner.Run(() =>
        {
            var t = Tokenizer.Load(HubArguments.Model(r.GetValue(tokenizer)!, r.GetValue(revision)));
            string input = r.GetValue(text)!;
            if (!r.GetValue(decode))
            {
                Console.WriteLine(JsonSerializer.Serialize(t.Encode(input, addSpecialTokens: !r.GetValue(noSpecial))));
                return;
            }
            int[] ids;
            try { ids = JsonSerializer.Deserialize<int[]>(input) ?? throw new JsonException(); }
            catch (JsonException) { throw new QzoException($"--decode expects a JSON array of integers, e.g. [1, 15043]; got {input}"); }
            foreach (var id in ids)
                if ((uint)id >= (uint)t.VocabSize) throw new QzoException(
                    $"token id {id} is outside the vocabulary (0..{t.VocabSize - 1})");
            Console.WriteLine(t.Decode(ids, skipSpecialTokens: !r.GetValue(noSpecial)));
        }));
        return command;
    }
}
