namespace Qzo.Hub;

/// <summary>
/// Where the Hugging Face cache is and how to reach the Hub, read from the same environment variables huggingface_hub
/// reads (docs/hub.md lists them): HF_HOME (default $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface),
/// HF_HUB_CACHE (legacy HUGGINGFACE_HUB_CACHE; default $HF_HOME/hub), HF_ENDPOINT (default https://huggingface.co),
/// HF_TOKEN (legacy HUGGING_FACE_HUB_TOKEN) or the token file (HF_TOKEN_PATH, default $HF_HOME/token), and
/// HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) = 1/ON/YES/TRUE. Tests build one directly instead of touching the process.
/// </summary>
public sealed record HubSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The hub cache folder (the one holding models--org--name and datasets--org--name).</summary>
    public required string CacheFolder { get; init; }
    public string Endpoint { get; init; } = DefaultEndpoint;
    public string? Token { get; init; }
    public bool Offline { get; init; }
    /// <summary>HF_HUB_DISABLE_SYMLINKS: snapshot files are copies of the blobs instead of links to them.</summary>
    public bool NoSymlinks { get; init; }
    /// <summary>The HTTP stack; tests give one with short timeouts. Null: a shared default client.</summary>
    public HttpMessageHandler? Handler { get; init; }

    public static HubSettings FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    public static HubSettings FromEnvironment(Func<string, string?> variable)
    {
        string home = Expand(variable("HF_HOME"), variable)
            ?? Path.Combine(Expand(variable("XDG_CACHE_HOME"), variable) ?? Path.Combine(UserHome(variable), ".cache"), "huggingface");
        string cache = Expand(variable("HF_HUB_CACHE"), variable) ?? Expand(variable("HUGGINGFACE_HUB_CACHE"), variable)
            ?? Path.Combine(home, "hub");
        string tokenPath = Expand(variable("HF_TOKEN_PATH"), variable) ?? Path.Combine(home, "token");
        return new HubSettings
        {
            CacheFolder = cache,
            Endpoint = (Blank(variable("HF_ENDPOINT")) ?? DefaultEndpoint).TrimEnd('/'),
            Token = CleanToken(variable("HF_TOKEN")) ?? CleanToken(variable("HUGGING_FACE_HUB_TOKEN")) ?? ReadTokenFile(tokenPath),
            Offline = IsTrue(variable("HF_HUB_OFFLINE") is { Length: > 0 } offline ? offline : variable("TRANSFORMERS_OFFLINE")),
            NoSymlinks = IsTrue(variable("HF_HUB_DISABLE_SYMLINKS")),
        };
    }

    static bool IsTrue(string? value) => value?.ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    static string UserHome(Func<string, string?> variable) =>
        Blank(variable("HOME")) ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    /// <summary>~ and $VAR as Python's expanduser and expandvars do (an unknown variable is left as written).</summary>
    static string? Expand(string? value, Func<string, string?> variable)
    {
        if (Blank(value) is not string path) return null;
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal)) path = UserHome(variable) + path[1..];
        return System.Text.RegularExpressions.Regex.Replace(path, @"\$(\w+)|\$\{([^}]*)\}",
            m => variable(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value) ?? m.Value);
    }

    static string? CleanToken(string? token) => Blank(token?.Replace("\r", "").Replace("\n", "").Trim());

    static string? ReadTokenFile(string path)
    {
        try { return File.Exists(path) ? CleanToken(File.ReadAllText(path)) : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
