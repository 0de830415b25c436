namespace Qzo.Generation;

/// <summary>
/// One prompt's continuation: its text (decoded without special tokens, cut before a stop string), every token
/// generated (an ending EOS token included, and the tokens that completed a stop string), and why it ended, one
/// of <see cref="StopReasons"/>.
/// </summary>
public sealed record GeneratedText(string Text, int[] TokenIds, string StopReason); // StopReason: "eos" | "stop-string" | "length"

/// <summary>The values of <see cref="GeneratedText.StopReason"/>.</summary>
public static class StopReasons
{
    public const string Eos = "eos";
    public const string StopString = "stop-string";
    public const string Length = "length";
}
