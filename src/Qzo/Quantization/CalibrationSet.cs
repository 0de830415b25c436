using Qzo.IO;
using Qzo.Tasks;
using Qzo.Text;

namespace Qzo.Quantization;

/// <summary>
/// Calibration token windows for GPTQ: the rows of a JSONL file (<c>text</c>, <c>prompt</c>+<c>completion</c> or
/// <c>input_ids</c>, as <see cref="JsonlDataset"/> reads them) tokenized with the checkpoint's tokenizer, shuffled with
/// the seed, concatenated and cut into consecutive windows of <see cref="Length"/> tokens, of which the first
/// <see cref="Samples"/> are used (GPTQModel's recipe for the QZO paper's calibration set: shuffle, concatenate, cut).
/// </summary>
public sealed class CalibrationSet
{
    public const int DefaultSamples = 128;
    public const int DefaultLength = 2048;

    CalibrationSet(int[][] windows, int length, long totalTokens)
    {
        Windows = windows;
        Length = length;
        TotalTokens = totalTokens;
    }

    /// <summary>Samples × Length token ids.</summary>
    public IReadOnlyList<int[]> Windows { get; }
    public int Samples => Windows.Count;
    public int Length { get; }
    /// <summary>Tokens the file holds (all rows together).</summary>
    public long TotalTokens { get; }

    /// <param name="samples">windows wanted (null: 128); fewer when the data runs out</param>
    /// <param name="length">tokens per window (null: 2048, or all the data holds when less); the data must hold at least one window of an
    /// explicit length</param>
    /// <param name="maxLength">the longest window the model takes (max_position_embeddings), or null</param>
    public static CalibrationSet Load(string path, Tokenizer tokenizer, int? samples, int? length, ulong seed, int? maxLength = null)
    {
        if (samples is <= 0) throw new QzoException($"--calibration-samples must be positive, got {samples}");
        if (length is <= 0) throw new QzoException($"--calibration-length must be positive, got {length}");
        if (length is int explicitLength && maxLength is int limit && explicitLength > limit)
            throw new QzoException($"--calibration-length {explicitLength} is longer than the model's {limit} positions");
        if (JsonlFile.ReadLines(path, "calibration file").All(l => string.IsNullOrWhiteSpace(l.Text)))
            throw new QzoException($"{path}: the calibration file is empty");

        var examples = JsonlDataset.Load(path, tokenizer, int.MaxValue);
        var rows = examples.Select(e => e is SequenceExample s ? s.Ids
            : throw new QzoException($"{path}: calibration rows must be text (text, prompt+completion or input_ids), not labelled choices"))
                .ToList();

        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        for (int i = rows.Count - 1; i > 0; i--)
        {
            int k = random.Next(i + 1);
            (rows[i], rows[k]) = (rows[k], rows[i]);
        }
        long total = rows.Sum(r => (long)r.Length);
        if (total < 2) throw new QzoException(
            $"{path}: the calibration data holds {total} token{(total == 1 ? "" : "s")}; GPTQ needs samples of at least 2");

        int window;
        if (length is int wanted)
        {
            if (total < wanted)
                throw new QzoException(
                    $"{path}: the calibration data holds {total} tokens, too short for one sample of --calibration-length {wanted}");
            window = wanted;
        }
        else window = (int)Math.Min(Math.Min(DefaultLength, total), maxLength ?? int.MaxValue);

        int count = (int)Math.Min(samples ?? DefaultSamples, total / window);
        var windows = new int[count][];
        int row = 0, offset = 0;
        for (int w = 0; w < count; w++)
        {
            var ids = new int[window];
            for (int t = 0; t < window; t++)
            {
                while (offset == rows[row].Length) { row++; offset = 0; }
                ids[t] = rows[row][offset++];
            }
            windows[w] = ids;
        }
        return new CalibrationSet(windows, window, total);
    }
}
