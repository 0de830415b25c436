Qzo.Compute.StartupMarks.Mark("main");
Qzo.IO.Posix.IgnoreFileSizeLimitSignal();
return Qzo.Cli.QzoCommand.Run(args);
