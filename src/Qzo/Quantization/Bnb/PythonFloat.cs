using System.Globalization;

namespace Qzo.Quantization.Bnb;

/// <summary>
/// Python's repr of a float (what json.dumps writes): the shortest round-trip digits, 'e' notation outside 1e−4 ≤ |x| &lt; 1e16.
/// </summary>
public static class PythonFloat
{
    public static string Repr(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsInfinity(value)) return value > 0 ? "Infinity" : "-Infinity";
        string sign = value < 0 || (value == 0 && double.IsNegative(value)) ? "-" : "";
        string shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        string mantissa = shortest, exponentText = "0";
        int e = shortest.IndexOfAny(['E', 'e']);
        if (e >= 0) { mantissa = shortest[..e]; exponentText = shortest[(e + 1)..]; }
        int point = mantissa.IndexOf('.');
        string integer = point < 0 ? mantissa : mantissa[..point], fraction = point < 0 ? "" : mantissa[(point + 1)..];
        string digits = integer + fraction;
        int decimalPoint = integer.Length + int.Parse(exponentText, CultureInfo.InvariantCulture); // value = 0.digits × 10^decimalPoint
        int leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.TrimStart('0').TrimEnd('0');
        decimalPoint -= leading;
        if (digits.Length == 0) return sign + "0.0";

        if (decimalPoint > -4 && decimalPoint <= 16)
        {
            if (decimalPoint <= 0) return sign + "0." + new string('0', -decimalPoint) + digits;
            if (decimalPoint >= digits.Length) return sign + digits + new string('0', decimalPoint - digits.Length) + ".0";
            return sign + digits[..decimalPoint] + "." + digits[decimalPoint..];
        }
        int exponent = decimalPoint - 1;
        string head = digits.Length == 1 ? digits : digits[..1] + "." + digits[1..];
        return sign + head + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }
}
