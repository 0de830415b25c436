namespace Qzo.Text;

/// <summary>
/// A tokenizer.json "model": one pre-tokenized piece of text → vocabulary ids (<see cref="BpeModel"/>,
/// <see cref="UnigramModel"/>). Thread-safe.
/// </summary>
internal interface ITokenizerModel
{
    void Tokenize(string piece, List<int> output);
    int? TokenToId(string token);
    string? IdToToken(int id);
    /// <summary>The largest id in the vocabulary.</summary>
    int MaxId { get; }
    string? UnkToken { get; }
}
