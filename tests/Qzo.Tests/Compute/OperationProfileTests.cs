using Qzo.Compute;
using Qzo.Compute.Cpu;
using Qzo.Compute.Cuda;

namespace Qzo.Tests.Compute;

public class OperationProfileTests
{
    [Theory]
    [InlineData(null, OperationProfile.Mode.Off)]
    [InlineData("", OperationProfile.Mode.Off)]
    [InlineData("0", OperationProfile.Mode.Off)]
    [InlineData("1", OperationProfile.Mode.Synchronized)]
    [InlineData("host", OperationProfile.Mode.Host)]
    [InlineData(" HOST ", OperationProfile.Mode.Host)]
    public void ParsesTheVariable(string? value, OperationProfile.Mode expected) =>
        Assert.Equal(expected, OperationProfile.Parse(value));

    [Fact]
    public void AnUnknownValueIsAClearError()
    {
        var e = Assert.Throws<QzoException>(() => OperationProfile.Parse("yes"));
        Assert.Contains("QZO_PROFILE=yes", e.Message);
    }

    [Fact]
    public void APhaseReturnsItsWorksValue() => Assert.Equal(42, OperationProfile.Phase("test phase", () => 42));

    [Fact]
    public void StartupMarksAreInOrderFromTheProcessStart()
    {
        StartupMarks.Mark("test mark a");
        StartupMarks.Mark("test mark b");
        var marks = StartupMarks.All.Where(m => m.Name.StartsWith("test mark")).ToList();
        Assert.True(marks.Count >= 2);
        Assert.All(marks, m => Assert.True(m.Seconds > 0));
        Assert.True(marks[^1].Seconds >= marks[^2].Seconds);
    }

    [Fact]
    public void AutoFallsBackToTheCpuWithoutADevice()
    {
        using var backend = ComputeDevices.CreateBackend(ComputeDevice.Auto);
        if (CudaBackend.IsCudaAvailable()) Assert.IsType<CudaBackend>(backend);
        else Assert.IsType<CpuBackend>(backend);
    }
}
