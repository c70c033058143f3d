using System.CommandLine;
using Mpc.LoadTest;

RootCommand root = LoadCommand.Create();
ParseResult parsed = root.Parse(args);
if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    Console.Error.WriteLine($"error: {string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.')))} (see mpc-load --help)");
    return 2;
}
return await parsed.InvokeAsync();
