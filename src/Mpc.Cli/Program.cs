using System.CommandLine;
using Mpc.Cli;

var root = new RootCommand("mpc: two-party (split-key) ECDSA signing. The key is never whole anywhere.");
root.Subcommands.Add(DemoCommand.Create());
return await root.Parse(args).InvokeAsync();
