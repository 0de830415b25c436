using System.Buffers.Binary;
using System.Text;

namespace Qzo.Text;

/// <summary>
/// SentencePiece's precompiled_charsmap (NormalizerSpec field 2; tokenizer.json's Precompiled normalizer, base64):
/// a little-endian u32 byte size of a darts-clone double-array trie, the trie's u32 units, then a pool of
/// NUL-terminated UTF-8 replacement strings. The trie maps UTF-8 byte sequences (e.g. "ｆ", "ﬁ", "e◌́") to the offset of
/// their replacement in the pool.
/// </summary>
internal sealed class PrecompiledCharsMap
{
    readonly uint[] _units;
    readonly byte[] _pool;

    public PrecompiledCharsMap(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 4) throw new TokenizerFormatException("precompiled_charsmap: shorter than its 4-byte header");
        uint trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieBytes == 0 || trieBytes % 4 != 0 || trieBytes > (uint)(blob.Length - 4))
            throw new TokenizerFormatException(
                $"precompiled_charsmap: a trie of {trieBytes} bytes does not fit the {blob.Length}-byte map");
        _units = new uint[trieBytes / 4];
        for (int i = 0; i < _units.Length; i++) _units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob[(4 + 4 * i)..]);
        _pool = blob[(4 + (int)trieBytes)..].ToArray();
        if (!System.Text.Unicode.Utf8.IsValid(_pool))
            throw new TokenizerFormatException("precompiled_charsmap: the replacement strings are not UTF-8");
    }

    public int ByteLength => 4 + 4 * _units.Length + _pool.Length;

    /// <summary>The replacement of the shortest rule matching a prefix of <paramref name="key"/> (HF's transform).</summary>
    public string? ShortestPrefixReplacement(ReadOnlySpan<byte> key) =>
        Search(key, longest: false, out int value) > 0 ? Replacement(value) : null;

    /// <summary>
    /// The longest rule matching a prefix of <paramref name="key"/>: its byte length and replacement (SentencePiece's rule).
    /// </summary>
    public (int Length, string Replacement)? LongestPrefixMatch(ReadOnlySpan<byte> key) =>
        Search(key, longest: true, out int value) is int length and > 0 ? (length, Replacement(value)) : null;

    /// <summary>
    /// darts-clone's commonPrefixSearch, keeping the shortest or the longest key that is a prefix of
    /// <paramref name="key"/> (a NUL byte ends the key): its length (0: none) and value.
    /// </summary>
    int Search(ReadOnlySpan<byte> key, bool longest, out int value)
    {
        value = 0;
        int found = 0;
        int node = Offset(Unit(0));
        for (int i = 0; i < key.Length && key[i] != 0; i++)
        {
            node ^= key[i];
            uint unit = Unit(node);
            if ((unit & 0x800000FFu) != key[i]) break; // label: the byte, and bit 31 clear
            node ^= Offset(unit);
            if (((unit >> 8) & 1) == 0) continue; // no key ends here
            value = (int)(Unit(node) & 0x7FFFFFFFu);
            found = i + 1;
            if (!longest) break;
        }
        return found;
    }

    uint Unit(int index) => (uint)index < (uint)_units.Length ? _units[index]
        : throw new QzoException($"precompiled_charsmap: the trie points to unit {index} of {_units.Length} (the map is corrupt)");

    static int Offset(uint unit) => (int)((unit >> 10) << (int)((unit & (1u << 9)) >> 6));

    string Replacement(int offset)
    {
        if ((uint)offset >= (uint)_pool.Length)
            throw new QzoException(
                $"precompiled_charsmap: a rule points to byte {offset} of a {_pool.Length}-byte pool (the map is corrupt)");
        int end = Array.IndexOf(_pool, (byte)0, offset);
        return Encoding.UTF8.GetString(_pool, offset, (end < 0 ? _pool.Length : end) - offset);
    }
}

/// <summary>
/// HF tokenizers' Precompiled normalizer (normalizers/precompiled.rs): per extended grapheme cluster, the whole
/// cluster is replaced when it is shorter than 6 UTF-8 bytes and a rule matches a prefix of it (the shortest such
/// rule, whatever the rest of the cluster); otherwise each character is replaced by its own rule or kept. This differs
/// from SentencePiece's own longest-match scan (<see cref="SentencePieceNormalizer"/>) only on clusters where a
/// shorter rule hides a longer one.
/// </summary>
internal sealed class PrecompiledNormalizer(PrecompiledCharsMap map) : INormalizer
{
    public string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        Span<byte> utf8 = stackalloc byte[8];
        for (int i = 0; i < text.Length;)
        {
            int length = System.Globalization.StringInfo.GetNextTextElementLength(text.AsSpan(i));
            var cluster = text.AsSpan(i, length);
            i += length;
            int byteCount = Encoding.UTF8.GetByteCount(cluster);
            if (byteCount < 6 && map.ShortestPrefixReplacement(utf8[..Encoding.UTF8.GetBytes(cluster, utf8)]) is string whole)
            {
                sb.Append(whole);
                continue;
            }
            foreach (var rune in cluster.EnumerateRunes())
            {
                int n = rune.EncodeToUtf8(utf8);
                if (map.ShortestPrefixReplacement(utf8[..n]) is string replaced) sb.Append(replaced);
                else sb.Append(rune.ToString());
            }
        }
        return sb.ToString();
    }
}
