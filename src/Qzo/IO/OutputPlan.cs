namespace Qzo.IO;

/// <summary>
/// Every file and folder a command reads and writes, checked before any work starts, so a command fails at once rather
/// than after hours of training, and never harms what it reads:
/// - an output may not equal, contain or lie inside an input, however either is spelled (links, "in/.", bind mounts),
///   nor overlap another output;
/// - an existing output is replaced only with --force (a folder kept across runs, such as a run folder, likewise);
/// - each output is locked (<see cref="OutputLock"/>) until the command ends, which also proves its folder writable;
/// - what a killed earlier write left beside it is tidied (<see cref="InterruptedWrites"/>);
/// - a FIFO or a device given as a file output is written into directly, and a symlink is written through.
/// </summary>
public sealed class OutputPlan : IDisposable
{
    readonly List<(string Path, string What)> _inputs = [];
    readonly List<(string Path, string Option, bool Replaced)> _outputs = [];
    readonly List<OutputLock> _locks = [];
    readonly List<string> _createdFolders = [];
    readonly Action<string> _note;

    /// <param name="note">receives a line for each leftover of an interrupted write that was restored.</param>
    public OutputPlan(Action<string>? note = null) => _note = note ?? (_ => { });

    /// <summary>A file or folder the command reads (null is ignored); outputs claimed later may not touch it.</summary>
    public OutputPlan Input(string? path, string what)
    {
        if (path is null) return this;
        string canonical = PathRelation.Canonical(path);
        foreach (var (output, option, _) in _outputs) CheckApart(canonical, what, output, option);
        _inputs.Add((canonical, what));
        return this;
    }

    /// <summary>A folder written whole and renamed into place (a checkpoint); returns its resolved path.</summary>
    public string Folder(string path, string option, bool force)
    {
        string target = Lock(Claim(path, option, replaced: true), option);
        var kind = FolderKind(target, option);
        if (kind == Posix.Kind.Directory && !force && Directory.EnumerateFileSystemEntries(target).Any())
            throw new QzoException($"{option} {target}: folder exists and is not empty (pass --force to replace it)");
        return target;
    }

    /// <summary>
    /// A folder filled in place over a run (a run folder, the demo's work folder). Without <paramref name="resume"/>
    /// an existing one that holds files needs <paramref name="force"/> and is then cleared; with it, it must exist.
    /// </summary>
    public string WorkFolder(string path, string option, bool force, bool resume = false, string? hint = null)
    {
        string target = Lock(Claim(path, option, replaced: false), option);
        var kind = FolderKind(target, option);
        if (resume)
        {
            if (kind == Posix.Kind.Missing) throw new QzoException($"{option} {target}: no such run folder");
            return target;
        }
        bool holdsFiles = kind == Posix.Kind.Directory && Directory.EnumerateFileSystemEntries(target).Any();
        if (holdsFiles && !force)
            throw new QzoException($"{option} {target}: folder exists and is not empty (pass --force to replace it{hint})");
        try
        {
            if (holdsFiles) Clear(target);
            if (kind == Posix.Kind.Missing) _createdFolders.Add(target);
            Directory.CreateDirectory(target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw IoFailure.Writing(target, e); }
        return target;
    }

    /// <summary>A file written at the end (JSON, JSONL, safetensors) or appended to as it goes (metrics); null is ignored.</summary>
    public string? File(string? path, string option, bool force)
    {
        if (path is null) return null;
        string target = Claim(path, option, replaced: true);
        if (Posix.KindOf(target) is Posix.Kind.Fifo or Posix.Kind.CharacterDevice or Posix.Kind.BlockDevice or Posix.Kind.Socket)
            return target; // written into as it is: nothing to replace, and nothing to lock
        Lock(target, option);
        switch (Posix.KindOf(target))
        {
            case Posix.Kind.Directory:
                throw new QzoException($"{option} {target}: is a folder; give a file name");
            case Posix.Kind.Regular or Posix.Kind.Unknown when !force:
                throw new QzoException($"{option} {target}: exists (pass --force to replace it)");
        }
        return target;
    }

    static Posix.Kind FolderKind(string target, string option)
    {
        var kind = Posix.KindOf(target);
        if (kind is not (Posix.Kind.Missing or Posix.Kind.Directory) || (kind == Posix.Kind.Missing && System.IO.File.Exists(target)))
            throw new QzoException($"{option} {target}: exists and is not a folder");
        return kind;
    }

    string Claim(string path, string option, bool replaced)
    {
        string target = PathRelation.Canonical(path);
        if (Path.GetDirectoryName(target) is null) throw new QzoException($"{option} {target}: cannot write to the root folder");
        foreach (var (input, what) in _inputs) CheckApart(input, what, target, option);
        foreach (var (other, otherOption, otherReplaced) in _outputs)
        {
            var relation = PathRelation.Of(target, other);
            bool fileInKeptFolder = !otherReplaced && relation == PathRelation.Kind.FirstInsideSecond
                                    || !replaced && relation == PathRelation.Kind.SecondInsideFirst;
            if (relation != PathRelation.Kind.Unrelated && !fileInKeptFolder)
                throw new QzoException($"{option} {target}: overlaps {otherOption} {other}; give the outputs separate places");
        }
        _outputs.Add((target, option, replaced));
        return target;
    }

    static void CheckApart(string input, string what, string output, string option)
    {
        string? problem = PathRelation.Of(output, input) switch
        {
            PathRelation.Kind.Same => "is",
            PathRelation.Kind.FirstInsideSecond => "lies inside",
            PathRelation.Kind.SecondInsideFirst => "contains",
            _ => null,
        };
        if (problem is not null)
            throw new QzoException(
                $"{option} {output}: {problem} {what} {input}; an output may never equal, contain or lie inside an input");
    }

    string Lock(string target, string option)
    {
        string parent = Path.GetDirectoryName(target)!;
        var missing = new List<string>();
        for (string? folder = parent; folder is not null && !Path.Exists(folder); folder = Path.GetDirectoryName(folder))
            missing.Add(folder);
        _createdFolders.AddRange(Enumerable.Reverse(missing));
        try { Directory.CreateDirectory(parent); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new QzoException($"{option} {target}: cannot create the folder {parent} ({IoFailure.Reason(e)})");
        }
        _locks.Add(OutputLock.Acquire(target, option));
        foreach (var line in InterruptedWrites.Recover(target)) _note(line);
        return target;
    }

    /// <summary>Clears a folder so that a kill half-way leaves either the old folder or nothing of it (see InterruptedWrites).</summary>
    static void Clear(string folder)
    {
        string aside = $"{folder}{InterruptedWrites.PreviousMarker}{Guid.NewGuid():N}";
        Directory.Move(folder, aside);
        Directory.CreateDirectory(folder);
        Posix.FsyncDirectory(Path.GetDirectoryName(folder)!);
        Directory.Delete(aside, recursive: true);
    }

    public void Dispose()
    {
        foreach (var held in _locks) held.Dispose();
        _locks.Clear();
        // A command that stopped before writing leaves no trace: folders it made for its outputs go again while empty.
        foreach (var folder in Enumerable.Reverse(_createdFolders))
        {
            try { if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        _createdFolders.Clear();
    }
}
