return Qzo.Cli.QzoCommand.Run(args);
