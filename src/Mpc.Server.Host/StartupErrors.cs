using System.CommandLine;
using System.CommandLine.Parsing;
using Mpc.Grains.Sealing;

namespace Mpc.Server.Host;

/// <summary>The one place `mpc-server` turns a failure into "error: ..." lines on stderr and an exit code (<see cref="ServerExit"/>).</summary>
internal static class StartupErrors
{
    /// <summary>Runs an action; a failure becomes one "error: ..." line per problem and its exit code.</summary>
    public static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e)
        {
            (ServerExit exit, string message) = Classify(e);
            return Refuse(message, exit);
        }
    }

    /// <summary>One "error: ..." line on stderr per line of <paramref name="message"/>; returns <paramref name="exit"/>.</summary>
    public static int Refuse(string message, ServerExit exit)
    {
        foreach (string line in message.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Console.Error.WriteLine($"error: {line.TrimEnd('\r')}");
        }
        return (int)exit;
    }

    /// <summary>One line for System.CommandLine's parse errors (unknown option, missing value): a usage error.</summary>
    public static int ReportParseErrors(ParseResult parse)
    {
        string errors = string.Join("; ", parse.Errors.Select(e => e.Message.ReplaceLineEndings(" ").TrimEnd('.')).Distinct());
        string command = parse.CommandResult.Command is RootCommand ? "mpc-server" : $"mpc-server {parse.CommandResult.Command.Name}";
        Console.Error.WriteLine($"error: {errors} (see {command} --help)");
        return (int)ServerExit.Usage;
    }

    /// <summary>Decided by type and reason, never by message text.</summary>
    internal static (ServerExit Exit, string Message) Classify(Exception e) => e switch
    {
        ServerStartupException { Reason: ServerStartupReason.InUse } => (ServerExit.LocalResource, e.Message),
        ServerStartupException => (ServerExit.Usage, e.Message),
        KeyEncryptionKeyException => (ServerExit.LocalResource, $"master key: {e.Message}"),
        UsageException => (ServerExit.Usage, e.Message),
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException =>
            (ServerExit.LocalResource, e.Message.ReplaceLineEndings(" ").TrimEnd('.')),
        OperationCanceledException => (ServerExit.Cancelled, "cancelled"),
        _ => (ServerExit.Failed, $"unexpected {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")} (please report this)"),
    };
}

/// <summary>A command line `mpc-server` cannot use; one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
