using System.CommandLine;
using Mpc.Server.Host;

RootCommand root = ServerCommand.Create();
root.Add(TokenCommand.Create());
ParseResult parsed = root.Parse(args);
if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    return StartupErrors.ReportParseErrors(parsed);
}
return await parsed.InvokeAsync();
