using System.Net;

namespace Qzo.Hub;

/// <summary>
/// One line for a refused Hub request, from its status and the X-Error-Code / X-Error-Message headers the Hub sends
/// (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo), read as huggingface_hub's hf_raise_for_status reads them.
/// </summary>
static class HubErrors
{
    public static string? Code(HttpResponseMessage response) => Header(response, "X-Error-Code");

    public static string Describe(HubRequest request, HttpResponseMessage response, bool tokenGiven)
    {
        string? code = Code(response), message = Header(response, "X-Error-Message");
        string server = message is null ? $"HTTP {(int)response.StatusCode}" : $"HTTP {(int)response.StatusCode}: {message.TrimEnd('.')}";
        string where = request.Describe;
        string page = $"{request.Settings.Endpoint}/{request.Repo.UrlPrefix}{request.Repo.Id}";
        return code switch
        {
            "RevisionNotFound" => $"{where}: no revision '{request.Revision}' (not a branch, tag or commit of it; {server})",
            "EntryNotFound" => $"{where}: no file '{request.File}' at revision '{request.Revision}' ({server})",
            "GatedRepo" => $"{where} is gated: accept its conditions at {page}" +
                           (tokenGiven ? ", with the account of the token given (HF_TOKEN or the token file)" : " and set HF_TOKEN") +
                           $" ({server})",
            _ when message == "Access to this resource is disabled." => $"{where}: access to it is disabled on the Hub ({server})",
            _ when code == "RepoNotFound" || response.StatusCode == HttpStatusCode.Unauthorized =>
                $"{where}: not found on {request.Settings.Endpoint}: the name is wrong, or it is private or gated and " +
                (tokenGiven ? "the token given (HF_TOKEN or the token file) has no access to it" : "no token was given (set HF_TOKEN)") +
                $" ({server})",
            _ when response.StatusCode == HttpStatusCode.Forbidden =>
                $"{where}: access forbidden; check the token's permissions (HF_TOKEN or the token file) ({server})",
            _ when response.StatusCode == HttpStatusCode.TooManyRequests => $"{where}: the Hub asks to slow down ({server}); try later",
            _ => $"{where}: {request.Url} answered {server}",
        };
    }

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}

/// <summary>What a request is for, to name it in an error line.</summary>
sealed record HubRequest(HubSettings Settings, HubRepo Repo, string Revision, string? File, string Url)
{
    public string Describe => File is null ? Repo.Describe : $"{Repo.Describe}, file {File}";
}
