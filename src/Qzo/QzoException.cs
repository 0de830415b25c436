namespace Qzo;

/// <summary>
/// An error caused by the user's input (a file, a tensor, an option) rather than by a bug.
/// The message is one line that names what is wrong and where; the CLI prints it and exits with code 1.
/// </summary>
public sealed class QzoException : Exception
{
    public QzoException(string message) : base(message) { }
    public QzoException(string message, Exception inner) : base(message, inner) { }
}
