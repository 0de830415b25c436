namespace Qzo;

/// <summary>
/// Calls back on the training thread, in order; <see cref="Progress{T}"/> would post each report to the thread pool,
/// where a console program's callbacks could run late and out of order.
/// </summary>
sealed class CallbackProgress<T>(Action<T> callback) : IProgress<T>
{
    public void Report(T value) => callback(value);
}
