using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Qzo.Hub;

/// <summary>What a HEAD on a resolve URL says about a file (huggingface_hub's get_hf_file_metadata).</summary>
sealed record HubFileMetadata(string Commit, string Etag, long Size, Uri Location);

/// <summary>
/// The Hub's HTTP interface: repository info (commit and file list of a revision) and file metadata by HEAD on
/// {endpoint}/{datasets/}{repo}/resolve/{revision}/{file}. Redirects are followed by hand: one to a relative location
/// (a renamed repository) keeps the token; one to another host (an LFS file host, a signed URL) is where the content is,
/// and gets no token.
/// </summary>
sealed class HubHttp : IDisposable
{
    static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(30);
    readonly HttpClient _client;

    public HubHttp(HubSettings settings)
    {
        Settings = settings;
        var handler = settings.Handler ?? new SocketsHttpHandler
            { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, ConnectTimeout = TimeSpan.FromSeconds(20) };
        _client = new HttpClient(handler, disposeHandler: settings.Handler is null) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HubSettings Settings { get; }

    /// <summary>What the local cache lacks (a sentence naming the file), added to the line when the Hub cannot be reached.</summary>
    public string? CacheGap { get; init; }

    public static string Quote(string segment) => Uri.EscapeDataString(segment);

    /// <summary>A file's resolve URL; the revision is escaped whole ("refs%2Fconvert%2Fparquet"), the path per segment.</summary>
    public string ResolveUrl(HubRepo repo, string revision, string file) =>
        $"{Settings.Endpoint}/{repo.UrlPrefix}{repo.Id}/resolve/{Quote(revision)}/{string.Join('/', file.Split('/').Select(Quote))}";

    /// <summary>GET /api/{models|datasets}/{repo}/revision/{revision}: the commit id ("sha") and files ("siblings").</summary>
    public (string Commit, IReadOnlyList<string> Files) RepoInfo(HubRepo repo, string revision) =>
        TryRepoInfo(repo, revision, revisionMayBeMissing: false)!.Value;

    /// <summary>As <see cref="RepoInfo"/>; null for a revision the repository does not have, if it may be missing.</summary>
    public (string Commit, IReadOnlyList<string> Files)? TryRepoInfo(HubRepo repo, string revision, bool revisionMayBeMissing)
    {
        string url = $"{Settings.Endpoint}/api/{repo.ApiPlural}/{repo.Id}/revision/{Quote(revision)}";
        var request = new HubRequest(Settings, repo, revision, null, url);
        using var response = Send(request, HttpMethod.Get, followRelative: true, missingIsNull: revisionMayBeMissing)!;
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        JsonNode? json;
        try { json = JsonNode.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult()); }
        catch (System.Text.Json.JsonException e) { throw new QzoException($"{request.Describe}: {url} did not answer JSON ({e.Message})"); }
        string commit = json?["sha"]?.GetValue<string>() is string sha && HubRepo.IsCommitHash(sha) ? sha
            : throw new QzoException($"{request.Describe}: {url} gave no commit id (\"sha\")");
        var files = (json?["siblings"] as JsonArray ?? []).Select(s => s?["rfilename"]?.GetValue<string>()).OfType<string>().ToList();
        return (commit, files);
    }

    /// <summary>
    /// HEAD on the file's resolve URL; null when the repository has no such file (EntryNotFound), with the commit the
    /// Hub looked at in <paramref name="missingAt"/> when it says.
    /// </summary>
    public HubFileMetadata? Head(HubRepo repo, string revision, string file, out string? missingAt)
    {
        var request = new HubRequest(Settings, repo, revision, file, ResolveUrl(repo, revision, file));
        using var response = Send(request, HttpMethod.Head, followRelative: true, missingIsNull: true)!;
        missingAt = null;
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            missingAt = Header(response, "X-Repo-Commit");
            return null;
        }
        string? commit = Header(response, "X-Repo-Commit");
        string? etag = Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(response, "ETag");
        bool redirect = (int)response.StatusCode / 100 == 3;
        string? size = Header(response, "X-Linked-Size") ?? (redirect ? null : response.Content.Headers.ContentLength?.ToString());
        if (commit is null)
            throw new QzoException($"{request.Describe}: {Settings.Endpoint} sent no X-Repo-Commit header; is HF_ENDPOINT the Hub " +
                                   "(or a proxy in the way)?");
        if (etag is null) throw new QzoException($"{request.Describe}: the Hub sent no ETag; the download could not be checked");
        if (!long.TryParse(size, out long length) || length < 0) throw new QzoException($"{request.Describe}: the Hub sent no file size");
        var location = redirect && response.Headers.Location is { } target ? new Uri(response.RequestMessage!.RequestUri!, target)
            : response.RequestMessage!.RequestUri!;
        return new HubFileMetadata(commit, NormalizeEtag(etag), length, location);
    }

    /// <summary>A GET of file content from <paramref name="from"/> on; the token only goes to the Hub's own host.</summary>
    public HttpResponseMessage GetContent(Uri url, long from, CancellationToken cancel)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, url);
        if (from > 0) message.Headers.Range = new RangeHeaderValue(from, null);
        message.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        Authorize(message, url);
        return _client.Send(message, HttpCompletionOption.ResponseHeadersRead, cancel);
    }

    /// <summary>ETag as a file name: W/"x" and "x" both give x.</summary>
    public static string NormalizeEtag(string etag) => (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    /// <summary>With <paramref name="missingIsNull"/>, a 404 for a missing file or revision is returned, not thrown.</summary>
    HttpResponseMessage? Send(HubRequest request, HttpMethod method, bool followRelative, bool missingIsNull)
    {
        var url = new Uri(request.Url);
        for (int hop = 0; hop < 10; hop++)
        {
            var message = new HttpRequestMessage(method, url);
            message.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            Authorize(message, url);
            HttpResponseMessage response;
            using (var timeout = new CancellationTokenSource(MetadataTimeout))
            {
                try { response = _client.Send(message, HttpCompletionOption.ResponseContentRead, timeout.Token); }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    throw new QzoException($"{request.Describe}: cannot reach {Settings.Endpoint} ({Reason(e)})" +
                                           (CacheGap is null ? "" : $", and {CacheGap}") +
                                           "; check the network, or set HF_HUB_OFFLINE=1 to use only the local cache");
                }
            }
            int status = (int)response.StatusCode;
            if (status / 100 == 3 && response.Headers.Location is { } location)
            {
                // A relative redirect (a renamed repository) is followed with the token; an absolute one is the content's
                // host: metadata requests stop there (its headers carry what is needed), content GETs are sent there.
                if (followRelative && !location.IsAbsoluteUri)
                {
                    url = new Uri(url, location);
                    response.Dispose();
                    continue;
                }
                if (method == HttpMethod.Head) return response;
                url = new Uri(url, location);
                response.Dispose();
                continue;
            }
            if (response.IsSuccessStatusCode) return response;
            if (missingIsNull && response.StatusCode == HttpStatusCode.NotFound
                && HubErrors.Code(response) is "EntryNotFound" or "RevisionNotFound")
                return response;
            string line = HubErrors.Describe(request with { Url = url.ToString() }, response, Settings.Token is not null);
            response.Dispose();
            throw new QzoException(line);
        }
        throw new QzoException($"{request.Describe}: too many redirects from {request.Url}");
    }

    void Authorize(HttpRequestMessage message, Uri url)
    {
        message.Headers.UserAgent.Add(new ProductInfoHeaderValue("qzo", typeof(HubHttp).Assembly.GetName().Version?.ToString(3) ?? "0"));
        if (Settings.Token is string token && string.Equals(url.Authority, new Uri(Settings.Endpoint).Authority,
                                                             StringComparison.OrdinalIgnoreCase))
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public static string Reason(Exception e) => e switch
    {
        TaskCanceledException => "timed out",
        HttpRequestException { InnerException: { } inner } => inner.Message,
        _ => e.Message,
    };

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out var content) ? content.FirstOrDefault() : null;

    public void Dispose() => _client.Dispose();
}
