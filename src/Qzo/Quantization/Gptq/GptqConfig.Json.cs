using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qzo.Quantization.Gptq;

public sealed partial record GptqConfig
{
    /// <summary>This build's entry in meta.quantizer, e.g. "qzo:1.0.0".</summary>
    public static string QzoQuantizerTag { get; } = QuantizerTagOf(typeof(GptqConfig).Assembly.GetName().Version);

    /// <summary>
    /// Reads a GPTQ config as AutoGPTQ, GPTQModel or transformers write it. <c>checkpoint_format</c> and <c>format</c> are
    /// both accepted; damp_percent, true_sequential and static_groups are also looked up in <c>meta</c> (newer GPTQModel).
    /// Anything Qzo cannot load exactly (other bit widths or formats, pack_dtype ≠ int32, per-module <c>dynamic</c>
    /// overrides) is a <see cref="QzoException"/> naming <paramref name="sourceFile"/> and the key.
    /// </summary>
    public static GptqConfig Parse(JsonObject json, string sourceFile)
    {
        var reader = new Reader(json, sourceFile);
        var meta = reader.Meta();

        string quantMethod = reader.String("quant_method") ?? "gptq";
        if (!quantMethod.Equals("gptq", StringComparison.OrdinalIgnoreCase))
            throw reader.Error("quant_method", $"is \"{quantMethod}\"; this reader handles only \"gptq\"");

        int bits = reader.Int("bits") ?? throw reader.Error("bits", "is missing");
        if (bits is not (2 or 3 or 4 or 8)) throw reader.Error("bits", $"is {bits}; supported: 2, 3, 4, 8");

        int groupSize = reader.Int("group_size") ?? 128;
        if (groupSize != -1 && groupSize <= 0) throw reader.Error("group_size", $"is {groupSize}; it must be positive or -1");

        if (reader.Bool("is_marlin_format") == true)
            throw reader.Error("is_marlin_format", "is true; Marlin-packed checkpoints are not supported (repack them to the gptq format)");

        var format = reader.Format("checkpoint_format");
        var codeFormat = reader.Format("format");
        if (format is not null && codeFormat is not null && format != codeFormat)
            throw reader.Error("format",
                $"is \"{codeFormat.Value.ConfigName()}\" but \"checkpoint_format\" is \"{format.Value.ConfigName()}\"");

        string packDtype = reader.String("pack_dtype") ?? "int32";
        if (packDtype is not ("int32" or "torch.int32"))
            throw reader.Error("pack_dtype", $"is \"{packDtype}\"; only int32 words are supported");

        if (json["dynamic"] is JsonNode dynamic && !(dynamic is JsonObject overrides && overrides.Count == 0))
            throw reader.Error("dynamic", "holds per-module overrides, which are not supported (expected null)");

        return new GptqConfig(
            Bits: bits,
            GroupSize: groupSize,
            DescAct: reader.Bool("desc_act") ?? false,
            Sym: reader.Bool("sym") ?? true,
            Format: format ?? codeFormat ?? GptqCheckpointFormat.Gptq,
            DampPercent: reader.Double("damp_percent") ?? meta?.Double("damp_percent") ?? 0.01,
            TrueSequential: reader.Bool("true_sequential") ?? meta?.Bool("true_sequential") ?? true,
            StaticGroups: reader.Bool("static_groups") ?? meta?.Bool("static_groups") ?? false,
            LmHead: reader.Bool("lm_head") ?? false,
            QuantMethod: "gptq",
            Quantizer: meta?.Quantizers().FirstOrDefault())
        { Source = (JsonObject)json.DeepClone() };
    }

    /// <summary>
    /// The config as GPTQModel writes it. Keys of <see cref="Source"/> that Qzo does not interpret are kept, in place;
    /// meta.quantizer keeps earlier tools and ends with <see cref="QzoQuantizerTag"/>.
    /// </summary>
    public JsonObject ToJson()
    {
        var json = Source?.DeepClone() as JsonObject ?? new JsonObject();
        json["quant_method"] = QuantMethod;
        json["bits"] = Bits;
        json["group_size"] = GroupSize;
        json["desc_act"] = DescAct;
        json["sym"] = Sym;
        json["true_sequential"] = TrueSequential;
        json["damp_percent"] = DampPercent;
        json["static_groups"] = StaticGroups;
        json["checkpoint_format"] = Format.ConfigName();
        json["format"] = Format.ConfigName();
        json["lm_head"] = LmHead;
        json["pack_dtype"] = "int32";

        var meta = json["meta"] as JsonObject ?? new JsonObject();
        var earlier = new Reader(meta, "config", "meta.").Quantizers();
        if (earlier.Count == 0 && Quantizer is not null) earlier = [Quantizer];
        var quantizers = new JsonArray();
        foreach (var tool in earlier.Where(t => !t.StartsWith("qzo:", StringComparison.Ordinal))) quantizers.Add(tool);
        quantizers.Add(QzoQuantizerTag);
        meta["quantizer"] = quantizers;
        json["meta"] = meta;
        return json;
    }

    static string QuantizerTagOf(Version? version) =>
        "qzo:" + (version is null ? "0.0.0" : $"{version.Major}.{version.Minor}.{Math.Max(version.Build, 0)}");

    /// <summary>Typed, optional look-ups whose errors name the file and the key.</summary>
    sealed class Reader(JsonObject json, string sourceFile, string keyPrefix = "")
    {
        public QzoException Error(string key, string problem) =>
            new($"{sourceFile}: GPTQ config key \"{keyPrefix}{key}\" {problem}");

        JsonValue? Value(string key, string expected)
        {
            var node = json[key];
            if (node is null) return null; // absent or JSON null: use the default
            return node as JsonValue ?? throw Error(key, $"is {node.ToJsonString()}; expected {expected}");
        }

        public int? Int(string key)
        {
            var value = Value(key, "an integer");
            if (value is null) return null;
            if (value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out int i)) return i;
            if (value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out double d) && d == Math.Floor(d)
                && Math.Abs(d) < int.MaxValue) return (int)d;
            throw Error(key, $"is {value.ToJsonString()}; expected an integer");
        }

        public double? Double(string key)
        {
            var value = Value(key, "a number");
            if (value is null) return null;
            if (value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out double d)) return d;
            throw Error(key, $"is {value.ToJsonString()}; expected a number");
        }

        public bool? Bool(string key)
        {
            var value = Value(key, "true or false");
            if (value is null) return null;
            return value.GetValueKind() switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(key, $"is {value.ToJsonString()}; expected true or false"),
            };
        }

        public string? String(string key)
        {
            var value = Value(key, "a string");
            if (value is null) return null;
            if (value.GetValueKind() == JsonValueKind.String) return value.GetValue<string>();
            throw Error(key, $"is {value.ToJsonString()}; expected a string");
        }

        public GptqCheckpointFormat? Format(string key)
        {
            var name = String(key);
            if (name is null) return null;
            if (GptqCheckpointFormats.TryParse(name, out var format)) return format;
            throw Error(key,
                $"is \"{name}\"; supported: \"gptq\", \"gptq_v2\" (marlin, bitblas and other kernel layouts are not GPTQ checkpoints Qzo " +
                "can train)");
        }

        public Reader? Meta() => json["meta"] switch
        {
            null => null,
            JsonObject meta => new Reader(meta, sourceFile, "meta."),
            var other => throw Error("meta", $"is {other.ToJsonString()}; expected an object"),
        };

        /// <summary>meta.quantizer: a list of "tool:version" strings (a single string is accepted too).</summary>
        public IReadOnlyList<string> Quantizers() => json["quantizer"] switch
        {
            null => [],
            JsonArray list => list.Select(t => t is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>()
                : throw Error("quantizer", $"holds {t?.ToJsonString() ?? "null"}; expected strings")).ToList(),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
            var other => throw Error("quantizer", $"is {other.ToJsonString()}; expected a list of strings"),
        };
    }
}
