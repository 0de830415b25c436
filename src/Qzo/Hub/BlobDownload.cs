using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Qzo.Hub;

/// <summary>
/// Brings one blob into the cache: the bytes go to blobs/ETAG.incomplete, which a later run resumes with a Range request
/// (a server that answers 200 instead of 206 starts it over); a connection lost mid-file is resumed the same way a few
/// times before giving up. The finished file must have the size the Hub announced and hash to its ETag (the sha256 of
/// an LFS file, the git blob sha1 of another); one that does not is deleted, never moved into blobs/.
/// </summary>
static class BlobDownload
{
    const int Attempts = 5;
    static readonly TimeSpan Stall = TimeSpan.FromSeconds(60);

    public static void Run(HubHttp http, HubRequest request, HubFileMetadata file, string blob, IHubProgress progress)
    {
        string partial = blob + ".incomplete";
        long start = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (start > file.Size) { File.Delete(partial); start = 0; }
        if (start > 0) progress.Note($"{request.File}: resuming the download at {start} of {file.Size} bytes");
        progress.File(request.File!, file.Size, report =>
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    Transfer(http, request, file, partial, report).GetAwaiter().GetResult();
                    break;
                }
                catch (Exception e) when (attempt < Attempts && Transient(e))
                {
                    Thread.Sleep(TimeSpan.FromMilliseconds(200 * attempt));
                }
                catch (Exception e) when (Transient(e))
                {
                    long kept = new FileInfo(partial).Length;
                    throw new QzoException($"{request.Describe}: the download failed {Attempts} times ({HubHttp.Reason(e)}); " +
                                           $"{kept} of {file.Size} bytes are kept in {partial}: run again to resume");
                }
            }
        });
        long length = new FileInfo(partial).Length;
        if (length != file.Size)
            throw new QzoException($"{request.Describe}: {length} bytes arrived where the Hub announced {file.Size}; kept in {partial}, " +
                                   "run again to resume");
        if (Mismatch(partial, file.Etag) is string actual)
        {
            File.Delete(partial);
            throw new QzoException($"{request.Describe}: the downloaded content hashes to {actual}, not to its ETag {file.Etag}; " +
                                   "it was deleted (run again to download it afresh)");
        }
        File.Move(partial, blob, overwrite: true);
    }

    static async Task Transfer(HubHttp http, HubRequest request, HubFileMetadata file, string partial, Action<long> report)
    {
        await using var output = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1 << 16);
        long from = output.Length;
        report(from);
        if (from == file.Size) return;
        using var stall = new CancellationTokenSource(Stall);
        using var response = http.GetContent(file.Location, from, stall.Token);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            output.SetLength(0); // the partial file is not a prefix of this content: start over
            throw new IOException("the server refused to resume; starting over");
        }
        if (!response.IsSuccessStatusCode)
            throw new QzoException(HubErrors.Describe(request with { Url = file.Location.ToString() }, response, false));
        if (response.StatusCode != HttpStatusCode.PartialContent || response.Content.Headers.ContentRange?.From != from)
            from = 0; // a whole answer (the server ignored Range): start over
        output.SetLength(from);
        output.Position = from;
        report(from);
        await using var body = await response.Content.ReadAsStreamAsync(stall.Token);
        var buffer = new byte[1 << 20];
        while (true)
        {
            stall.CancelAfter(Stall);
            int read = await body.ReadAsync(buffer, stall.Token);
            if (read == 0) break;
            if (output.Position + read > file.Size)
                throw new QzoException($"{request.Describe}: the server sent more than the {file.Size} bytes the Hub announced");
            await output.WriteAsync(buffer.AsMemory(0, read), stall.Token);
            report(output.Position);
        }
        await output.FlushAsync(stall.Token);
        output.Flush(flushToDisk: true);
        if (output.Length != file.Size) throw new IOException($"the connection ended after {output.Length} of {file.Size} bytes");
    }

    static bool Transient(Exception e) => e is IOException or HttpRequestException or TaskCanceledException;

    /// <summary>The file's hash when it does not match the ETag (64 hex digits: sha256; 40: git blob sha1); null if it does.</summary>
    static string? Mismatch(string path, string etag)
    {
        string? actual = etag.Length switch
        {
            64 => Sha256(path),
            40 => GitBlobSha1(path),
            _ => null, // not a content hash: the size check is all there is
        };
        return actual is null || string.Equals(actual, etag, StringComparison.OrdinalIgnoreCase) ? null : actual;
    }

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    static string GitBlobSha1(string path)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {new FileInfo(path).Length}\0"));
        using var stream = File.OpenRead(path);
        var buffer = new byte[1 << 20];
        for (int read; (read = stream.Read(buffer)) > 0;) sha1.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }
}
