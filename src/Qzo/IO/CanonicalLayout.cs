using System.Text;
using Qzo.Numerics;

namespace Qzo.IO;

/// <summary>
/// The layout huggingface/safetensors' writer produces (tensor.rs <c>prepare</c>): tensors sorted by dtype,
/// widest alignment first (descending order of its <c>Dtype</c> enum), then by name; data packed back to back
/// in that order; header = compact serde_json with <c>__metadata__</c> first, then the tensors in that order,
/// each as {"dtype","shape","data_offsets"}; padded with spaces to a multiple of 8 bytes.
/// </summary>
internal static class CanonicalLayout
{
    /// <param name="Source">The caller's index for this tensor, carried through the sort.</param>
    public sealed record Entry(string Name, DType DType, long[] Shape, long ByteLength, int Source);

    public static List<Entry> Order(IEnumerable<Entry> entries)
    {
        var list = entries.ToList();
        list.Sort((a, b) =>
        {
            int byDType = ReferenceRank(b.DType).CompareTo(ReferenceRank(a.DType));
            return byDType != 0 ? byDType : Utf8Ordinal.Comparer.Compare(a.Name, b.Name);
        });
        return list;
    }

    /// <param name="ordered">Entries in the order of <see cref="Order"/>.</param>
    /// <param name="metadata">Written as given when not null (even if empty), keys in code-point order: the
    /// reference keeps them in a Rust HashMap, whose order is random, so any fixed order is as canonical.</param>
    public static byte[] HeaderBytes(IReadOnlyList<Entry> ordered, IReadOnlyDictionary<string, string>? metadata)
    {
        var sb = new StringBuilder("{");
        if (metadata is not null)
        {
            JsonStrings.AppendSerde(sb, SafetensorsHeader.MetadataKey);
            sb.Append(":{");
            bool first = true;
            foreach (var key in metadata.Keys.Order(Utf8Ordinal.Comparer))
            {
                if (!first) sb.Append(',');
                first = false;
                JsonStrings.AppendSerde(sb, key);
                sb.Append(':');
                JsonStrings.AppendSerde(sb, metadata[key]);
            }
            sb.Append('}');
            if (ordered.Count > 0) sb.Append(',');
        }
        long offset = 0;
        for (int i = 0; i < ordered.Count; i++)
        {
            var e = ordered[i];
            if (i > 0) sb.Append(',');
            JsonStrings.AppendSerde(sb, e.Name);
            sb.Append(":{\"dtype\":\"").Append(e.DType.Name()).Append("\",\"shape\":[")
              .AppendJoin(',', e.Shape).Append("],\"data_offsets\":[")
              .Append(offset).Append(',').Append(offset + e.ByteLength).Append("]}");
            offset += e.ByteLength;
        }
        sb.Append('}');

        int length = Encoding.UTF8.GetByteCount(sb.ToString());
        int padded = (length + 7) / 8 * 8;
        sb.Append(' ', padded - length);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Position in huggingface/safetensors' <c>Dtype</c> enum, which lists dtypes by increasing alignment.</summary>
    static int ReferenceRank(DType t) => t switch
    {
        DType.Bool => 0, DType.U8 => 1, DType.I8 => 2, DType.I16 => 3, DType.U16 => 4, DType.F16 => 5,
        DType.BF16 => 6, DType.I32 => 7, DType.U32 => 8, DType.F32 => 9, DType.F64 => 10, DType.I64 => 11,
        DType.U64 => 12,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "no place in the reference dtype order"),
    };
}
