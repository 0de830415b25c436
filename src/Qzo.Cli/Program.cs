Qzo.IO.Posix.IgnoreFileSizeLimitSignal();
return Qzo.Cli.QzoCommand.Run(args);
