using System.Diagnostics;
using System.Reflection;
using Xunit.Abstractions;

namespace Qzo.DeviceTests;

/// <summary>
/// Runs xunit [Fact] and [Theory]/[InlineData] methods by reflection (the GPU machine has no test host):
/// one line per test case, PASS or FAIL with the message, and the number of failures as the exit code.
/// </summary>
static class TestRunner
{
    public static int Run(Type[] classes, string? filter)
    {
        int passed = 0, failed = 0;
        foreach (var type in classes)
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            {
                bool fact = method.GetCustomAttribute<FactAttribute>() is not null;
                if (!fact) continue;
                var cases = method.GetCustomAttributes<InlineDataAttribute>().Select(d => d.GetData(method).First()).ToList();
                if (cases.Count == 0) cases.Add([]);
                foreach (var arguments in cases)
                {
                    string name = $"{type.Name}.{method.Name}({string.Join(", ", arguments)})";
                    if (filter is not null && !name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
                    var output = new ConsoleOutput();
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        var constructor = type.GetConstructors()[0];
                        var instance = constructor.Invoke(constructor.GetParameters().Length == 0 ? [] : [output]);
                        method.Invoke(instance, arguments);
                        (instance as IDisposable)?.Dispose();
                        passed++;
                        Console.WriteLine($"PASS {name} [{clock.Elapsed.TotalSeconds:F2} s]{output.Text}");
                    }
                    catch (TargetInvocationException e)
                    {
                        failed++;
                        Console.WriteLine(
                            $"FAIL {name} [{clock.Elapsed.TotalSeconds:F2} s]{output.Text}\n     " +
                            $"{e.InnerException?.GetType().Name}: {e.InnerException?.Message.Replace("\n", "\n     ")}\n     " +
                            $"{string.Join("\n     ", (e.InnerException?.ToString() ?? "").Split('\n').Skip(1).Take(12))}");
                    }
                }
            }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed;
    }

    sealed class ConsoleOutput : ITestOutputHelper
    {
        readonly System.Text.StringBuilder _text = new();
        public string Text => _text.Length == 0 ? "" : "\n     " + _text.ToString().TrimEnd().Replace("\n", "\n     ");
        public void WriteLine(string message) => _text.AppendLine(message);
        public void WriteLine(string format, params object[] args) => _text.AppendLine(string.Format(format, args));
    }
}
