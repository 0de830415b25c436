using System.Text.Json;

namespace Qzo;

static class Json
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
