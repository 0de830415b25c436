using System.Runtime.InteropServices;

namespace Qzo.Distributed;

/// <summary>
/// Sets a variable in the process's C environment, which native libraries (NCCL, CUDA) read with getenv: .NET's
/// Environment.SetEnvironmentVariable changes only its own copy on Linux.
/// </summary>
static partial class NativeEnvironment
{
    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc.so.6", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    public static void Set(string name, string value)
    {
        if (SetEnv(name, value, 1) != 0) throw new QzoException($"could not set {name} in the process environment");
        Environment.SetEnvironmentVariable(name, value);
    }

    public static string? Get(string name) => Marshal.PtrToStringUTF8(GetEnv(name));
}
