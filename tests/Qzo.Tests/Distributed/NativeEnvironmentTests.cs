using Qzo.Distributed;

namespace Qzo.Tests.Distributed;

public class NativeEnvironmentTests
{
    [Fact]
    public void AVariableSetForNativeLibrariesIsSeenByGetenv()
    {
        string name = $"QZO_TEST_{Guid.NewGuid():N}";
        Assert.Null(NativeEnvironment.Get(name));
        NativeEnvironment.Set(name, "0");
        Assert.Equal("0", NativeEnvironment.Get(name));
        Assert.Equal("0", Environment.GetEnvironmentVariable(name));
    }
}
