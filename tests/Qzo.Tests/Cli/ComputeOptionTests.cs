using Qzo.Cli.Runs;
using Qzo.Compute;
using Qzo.Training;

namespace Qzo.Tests.Cli;

/// <summary>
/// --compute and --compare-compute as a run's config.json keeps them (a resumed run multiplies as the killed one did;
/// runs written before the options read back as native with no comparison) and as the option parser refuses a typo.
/// </summary>
public class ComputeOptionTests
{
    [Fact]
    public void ComputeSettingsRoundTripThroughConfigJson()
    {
        var options = new ZoOptions { Compute = LinearPrecision.Fp8, ComparePrecision = LinearPrecision.Native };
        var json = ZoOptionsJson.Write(options);
        Assert.Equal("fp8", (string?)json["compute"]);
        Assert.Equal("native", (string?)json["compare_compute"]);
        var read = ZoOptionsJson.Read(json);
        Assert.Equal(LinearPrecision.Fp8, read.Compute);
        Assert.Equal(LinearPrecision.Native, read.ComparePrecision);
        Assert.Equal(options, read);
    }

    [Fact]
    public void AnOlderConfigReadsAsNativeWithoutComparison()
    {
        var json = ZoOptionsJson.Write(new ZoOptions());
        json.Remove("compute");
        json.Remove("compare_compute");
        var read = ZoOptionsJson.Read(json);
        Assert.Equal(LinearPrecision.Native, read.Compute);
        Assert.Null(read.ComparePrecision);
    }

    [Fact]
    public void AnUnknownPrecisionIsOneClearError()
    {
        var e = Assert.Throws<QzoException>(() => ZoOptionsJson.ParsePrecision("fp4", "--compute"));
        Assert.Equal("--compute: 'fp4' is not a precision (native or fp8)", e.Message);
    }
}
