using Qzo.DeviceTests;

if (args.Length > 0 && args[0] == "qzo")
{
    Qzo.Compute.StartupMarks.Mark("main");
    Qzo.IO.Posix.IgnoreFileSizeLimitSignal();
    return Qzo.Cli.QzoCommand.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "tests")
{
    Environment.SetEnvironmentVariable("QZO_TEST_DEVICE", "cuda");
    return TestRunner.Run(
        [typeof(Qzo.Tests.Compute.GpuKernelTests), typeof(Qzo.Tests.Models.GpuForwardTests),
         typeof(Qzo.Tests.Generation.GpuGenerationTests), typeof(Qzo.Tests.Models.FormatGpuForwardTests),
         typeof(Qzo.Tests.Compute.GpuGptqTests), typeof(Qzo.Tests.Compute.GpuTransferAndRandomTests),
         typeof(Qzo.Tests.Compute.GpuGptqStepTests), typeof(Qzo.Tests.Compute.GpuDiffusionKernelTests),
         typeof(DeviceOnlyChecks), typeof(FullAttentionDeviceChecks), typeof(StreamingKernelChecks), typeof(GptqDeviceChecks),
         typeof(GptqFusedDeviceChecks),
         typeof(Qzo.Tests.Diffusion.Vae.VaeGpuTests), typeof(VaeDeviceChecks), typeof(Qzo.Tests.Encoders.GpuEncoderTests),
         typeof(Qzo.Tests.Diffusion.Sd3GpuForwardTests),
         typeof(Sd3ParityDeviceChecks), typeof(NcclDeviceChecks), typeof(Fp8DeviceChecks),
         typeof(Qzo.Tests.Compute.GpuFp8Tests)],
        filter: args.Length > 1 ? args[1] : null);
}
if (args.Length > 0 && args[0] == "kernels")
    return Qzo.DeviceTests.Kernels.KernelHarness.Run(args[1..]);
Console.Error.WriteLine("usage: qzo-device qzo ARGS...   |   qzo-device tests [NAME-FILTER]\n" +
                        "       qzo-device kernels [--runs N] [--simulate] [OPERATION-FILTER]");
return 2;
