using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Qzo.Tests.Hub;

/// <summary>
/// A Hub on 127.0.0.1 for the tests, raw HTTP/1.1 over a TcpListener: GET /api/{models|datasets}/ID/revision/REV (sha and
/// siblings), HEAD and GET /{datasets/}ID/resolve/REV/PATH with the Hub's headers (X-Repo-Commit, ETag = git blob sha1,
/// and for LFS files a 302 to a file host, here "localhost" on the same port, with X-Linked-Etag = sha256 and
/// X-Linked-Size), Range requests on the file host, and the Hub's error headers (X-Error-Code, X-Error-Message).
/// Faults can be set per file: cut the connection after some bytes, or serve corrupted content.
/// </summary>
sealed class FakeHub : IDisposable
{
    sealed record Repo(Dictionary<string, string> Refs, Dictionary<string, Dictionary<string, byte[]>> Commits, bool Gated);

    readonly TcpListener _listener;
    readonly ConcurrentDictionary<string, Repo> _repos = new();
    readonly ConcurrentDictionary<string, byte[]> _lfs = new();
    readonly CancellationTokenSource _stop = new();

    public FakeHub()
    {
        _listener = new TcpListener(IPAddress.IPv6Any, 0);
        _listener.Server.DualMode = true;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(Accept);
    }

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";
    /// <summary>Requests as "METHOD path" with the Range and Authorization headers, in arrival order.</summary>
    public ConcurrentQueue<(string Request, string Host, string? Range, string? Authorization)> Log { get; } = new();
    /// <summary>File host GETs of a sha256 cut at this offset of the file, the given number of times.</summary>
    public ConcurrentDictionary<string, (long After, int Times)> Cuts { get; } = new();
    /// <summary>File host content served with one byte flipped.</summary>
    public ConcurrentDictionary<string, bool> Corrupt { get; } = new();
    /// <summary>Accepted token; null: any request is served (unless the repo is gated).</summary>
    public string? Token { get; set; }

    public static bool IsLfs(string path) => path.EndsWith(".safetensors") || path.EndsWith(".parquet") || path.EndsWith(".model");

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));
    public static string GitSha1(byte[] content) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));

    /// <summary>Adds a commit with these files to a repository ("models/ID" or "datasets/ID") and points the revision at it.</summary>
    public string Commit(string repo, string revision, IReadOnlyDictionary<string, byte[]> files, bool gated = false)
    {
        var entry = _repos.GetOrAdd(repo, _ => new Repo(new(), new(), gated));
        string commit = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(repo + revision + entry.Commits.Count)));
        entry.Commits[commit] = files.ToDictionary();
        entry.Refs[revision] = commit;
        foreach (var (path, content) in files) if (IsLfs(path)) _lfs[Sha256(content)] = content;
        return commit;
    }

    async Task Accept()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch { return; }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try { await Serve(client.GetStream()); } catch (IOException) { } catch (SocketException) { }
                }
            });
        }
    }

    async Task Serve(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n"))
        {
            if (await stream.ReadAsync(one) == 0) return;
            head.Append((char)one[0]);
        }
        var lines = head.ToString().Split("\r\n");
        var parts = lines[0].Split(' ');
        string method = parts[0], target = Uri.UnescapeDataString(parts[1].Split('?')[0]);
        var headers = lines.Skip(1).Where(l => l.Contains(':'))
            .ToDictionary(l => l[..l.IndexOf(':')].Trim().ToLowerInvariant(), l => l[(l.IndexOf(':') + 1)..].Trim());
        string host = headers.GetValueOrDefault("host", "");
        Log.Enqueue(($"{method} {target}", host[..host.LastIndexOf(':')], headers.GetValueOrDefault("range"),
                     headers.GetValueOrDefault("authorization")));
        if (target.StartsWith("/lfs/")) await ServeBlob(stream, method, target[5..], headers.GetValueOrDefault("range"));
        else if (target.StartsWith("/api/")) await ServeInfo(stream, target[5..], headers.GetValueOrDefault("authorization"));
        else await ServeResolve(stream, method, target[1..], headers.GetValueOrDefault("authorization"));
    }

    async Task ServeInfo(NetworkStream stream, string path, string? authorization)
    {
        // models/ORG/NAME/revision/REV or datasets/...; REV may hold '/' (refs/convert/parquet) once unescaped
        int at = path.IndexOf("/revision/", StringComparison.Ordinal);
        string repo = path[..at], revision = path[(at + "/revision/".Length)..];
        if (Refuse(repo, authorization) is { } refusal) { await Write(stream, refusal.Status, refusal.Headers, []); return; }
        var entry = _repos[repo];
        if (Resolve(entry, revision) is not string commit)
        {
            await Write(stream, 404, [("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", "Invalid rev id: " + revision)], []);
            return;
        }
        var json = new JsonObject
        {
            ["id"] = repo[(repo.IndexOf('/') + 1)..], ["sha"] = commit,
            ["siblings"] = new JsonArray(entry.Commits[commit].Keys.Order()
                .Select(f => (JsonNode)new JsonObject { ["rfilename"] = f }).ToArray()),
        };
        await Write(stream, 200, [("Content-Type", "application/json")], Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    async Task ServeResolve(NetworkStream stream, string method, string path, string? authorization)
    {
        // [datasets/]ORG/NAME/resolve/REV/FILE; REV has no '/' here unless it is refs/...: try the longest known revision
        string repoPart = path[..path.IndexOf("/resolve/", StringComparison.Ordinal)];
        string rest = path[(repoPart.Length + "/resolve/".Length)..];
        string repo = repoPart.StartsWith("datasets/") ? repoPart : "models/" + repoPart;
        if (Refuse(repo, authorization) is { } refusal) { await Write(stream, refusal.Status, refusal.Headers, []); return; }
        var entry = _repos[repo];
        var split = Enumerable.Range(1, rest.Count(c => c == '/')).Select(n => SplitAt(rest, n))
            .FirstOrDefault(s => Resolve(entry, s.Revision) is not null);
        if (split.Revision is null)
        {
            await Write(stream, 404, [("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", "Invalid rev id")], []);
            return;
        }
        string commit = Resolve(entry, split.Revision)!;
        if (!entry.Commits[commit].TryGetValue(split.File, out var content))
        {
            await Write(stream, 404, [("X-Error-Code", "EntryNotFound"), ("X-Error-Message", "Entry not found"), ("X-Repo-Commit", commit)],
                        []);
            return;
        }
        if (IsLfs(split.File))
        {
            string sha = Sha256(content);
            await Write(stream, 302,
                [("Location", $"http://localhost:{Port}/lfs/{sha}?signature=x"), ("X-Repo-Commit", commit),
                 ("ETag", $"\"{GitSha1(content)}\""),
                 ("X-Linked-Etag", $"\"{sha}\""), ("X-Linked-Size", content.Length.ToString())], [], contentLength: 0);
            return;
        }
        await Write(stream, 200, [("X-Repo-Commit", commit), ("ETag", $"\"{GitSha1(content)}\"")], method == "HEAD" ? [] : content,
                    contentLength: content.Length);
    }

    async Task ServeBlob(NetworkStream stream, string method, string sha, string? range)
    {
        var content = _lfs[sha];
        if (Corrupt.ContainsKey(sha)) { content = content.ToArray(); content[content.Length / 2] ^= 0xFF; }
        long from = range is null ? 0 : long.Parse(range["bytes=".Length..].TrimEnd('-'));
        var body = content.AsMemory((int)from);
        var headers = new List<(string, string)>();
        if (range is not null) headers.Add(("Content-Range", $"bytes {from}-{content.Length - 1}/{content.Length}"));
        if (Cuts.TryGetValue(sha, out var cut) && cut.Times > 0)
        {
            Cuts[sha] = cut with { Times = cut.Times - 1 };
            await WriteHead(stream, range is null ? 200 : 206, headers, body.Length);
            await stream.WriteAsync(body[..(int)Math.Clamp(cut.After - from, 0, body.Length)]);
            return; // the connection closes short of Content-Length
        }
        await Write(stream, range is null ? 200 : 206, headers, method == "HEAD" ? [] : body.ToArray(), contentLength: body.Length);
    }

    (int Status, (string, string)[] Headers)? Refuse(string repo, string? authorization)
    {
        bool authorized = authorization == $"Bearer {Token}" && Token is not null;
        if (Token is not null && authorization is not null && !authorized)
            return (401, [("X-Error-Message", "Invalid credentials in Authorization header")]);
        if (!_repos.TryGetValue(repo, out var entry))
            return (401, [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Repository not found")]);
        if (entry.Gated && !authorized)
            return (401, [("X-Error-Code", "GatedRepo"), ("X-Error-Message", "Access to model is restricted. You must have access")]);
        return null;
    }

    static string? Resolve(Repo repo, string revision) =>
        repo.Commits.ContainsKey(revision) ? revision : repo.Refs.GetValueOrDefault(revision);

    static (string Revision, string File) SplitAt(string rest, int slashes)
    {
        int at = -1;
        for (int i = 0; i < slashes; i++) at = rest.IndexOf('/', at + 1);
        return (rest[..at], rest[(at + 1)..]);
    }

    static async Task Write(NetworkStream stream, int status, IEnumerable<(string, string)> headers, byte[] body,
        long? contentLength = null)
    {
        await WriteHead(stream, status, headers, contentLength ?? body.Length);
        await stream.WriteAsync(body);
    }

    static async Task WriteHead(NetworkStream stream, int status, IEnumerable<(string, string)> headers, long contentLength)
    {
        var text = new StringBuilder(
            $"HTTP/1.1 {status} {(HttpStatusCode)status}\r\nConnection: close\r\nContent-Length: {contentLength}\r\n");
        foreach (var (name, value) in headers) text.Append($"{name}: {value}\r\n");
        text.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()));
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
