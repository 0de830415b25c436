using System.Text.RegularExpressions;

namespace Qzo.Hub;

public enum HubRepoType { Model, Dataset }

/// <summary>A repository on the Hub: its type and id ("org/name", or a legacy single name for datasets).</summary>
public sealed partial record HubRepo(HubRepoType Type, string Id)
{
    /// <summary>The cache folder's name: "models--org--name", "datasets--name" (huggingface_hub's repo_folder_name).</summary>
    public string FolderName => string.Join("--", [Type == HubRepoType.Model ? "models" : "datasets", .. Id.Split('/')]);

    /// <summary>The prefix of resolve URLs ("" or "datasets/") and the plural of API paths ("models", "datasets").</summary>
    public string UrlPrefix => Type == HubRepoType.Model ? "" : "datasets/";
    public string ApiPlural => Type == HubRepoType.Model ? "models" : "datasets";

    public string Describe => Type == HubRepoType.Model ? $"Hub model {Id}" : $"Hub dataset {Id}";

    /// <summary>
    /// Whether <paramref name="text"/> reads as a repository id (the Hub's rules: letters, digits, '-', '_', '.', no "--" or
    /// "..", at most 96 characters, not ending in ".git"). Models need "org/name"; datasets also take a legacy single name.
    /// </summary>
    public static bool TryParse(string text, HubRepoType type, out HubRepo repo)
    {
        repo = new HubRepo(type, text);
        if (text.Length > 96 || text.Contains("--", StringComparison.Ordinal) || text.Contains("..", StringComparison.Ordinal)
            || text.EndsWith(".git", StringComparison.Ordinal) || !IdPattern().IsMatch(text))
            return false;
        return type == HubRepoType.Dataset || text.Contains('/');
    }

    /// <summary>A full commit id, as huggingface_hub recognizes one (40 lowercase hex digits).</summary>
    public static bool IsCommitHash(string revision) => CommitPattern().IsMatch(revision);

    [GeneratedRegex(@"^(\b[\w\-.]+\b/)?\b[\w\-.]+\b$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitPattern();
}
