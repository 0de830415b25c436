using System.Text;

namespace Qzo.IO;

/// <summary>
/// JSON string literals exactly as two reference writers print them, so our files match theirs byte for byte.
/// System.Text.Json escapes differently (non-ASCII, '+', '&lt;', ...), hence these.
/// </summary>
internal static class JsonStrings
{
    /// <summary>As Rust's serde_json prints a string: escapes only '"', '\' and control characters
    /// (\b \t \n \f \r by name, the rest as lowercase \u00xx); everything else, non-ASCII included, verbatim.</summary>
    public static void AppendSerde(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (char c in value)
        {
            if (!AppendCommonEscape(sb, c)) sb.Append(c);
        }
        sb.Append('"');
    }

    /// <summary>As Python's json.dumps prints a string with its default ensure_ascii=True: like serde_json,
    /// plus every non-ASCII UTF-16 code unit as lowercase \uxxxx (so astral characters become surrogate pairs).</summary>
    public static void AppendPython(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (char c in value)
        {
            if (AppendCommonEscape(sb, c)) continue;
            if (c > 0x7E) sb.Append("\\u").Append(((int)c).ToString("x4"));
            else sb.Append(c);
        }
        sb.Append('"');
    }

    static bool AppendCommonEscape(StringBuilder sb, char c)
    {
        switch (c)
        {
            case '"': sb.Append("\\\""); return true;
            case '\\': sb.Append("\\\\"); return true;
            case '\b': sb.Append("\\b"); return true;
            case '\t': sb.Append("\\t"); return true;
            case '\n': sb.Append("\\n"); return true;
            case '\f': sb.Append("\\f"); return true;
            case '\r': sb.Append("\\r"); return true;
            case < ' ': sb.Append("\\u00").Append(((int)c).ToString("x2")); return true;
            default: return false;
        }
    }
}
