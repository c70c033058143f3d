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
    internal static (ServerExit Exit, string Message) Classify(Exception e) => Unavailable(e) ?? e switch
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

    /// <summary>
    /// Redis or the cluster's other silos not answering at start-up, wherever it sits in the exception chain: a
    /// condition of the deployment, not a bug, so one line that says what to check instead of Redis's diagnostics.
    /// </summary>
    private static (ServerExit Exit, string Message)? Unavailable(Exception e)
    {
        for (Exception? cause = e; cause is not null; cause = cause.InnerException)
        {
            switch (cause)
            {
                case StackExchange.Redis.RedisConnectionException { FailureType: StackExchange.Redis.ConnectionFailureType.AuthenticationFailure }:
                    // A refused password, or a TLS handshake either side refused: "did not answer" would send the operator to the wrong place.
                    return (ServerExit.Unavailable,
                        "Redis refused the connection (AuthenticationFailure): check the password in Mpc__Cluster__RedisConnectionString and, over TLS, " +
                        "that Redis's certificate chains to Mpc__Cluster__Redis__CaPath and names the host, and whether Redis requires " +
                        "Mpc__Cluster__Redis__CertificatePath (docs/operations.md, TLS)");
                case StackExchange.Redis.RedisConnectionException redis:
                    return (ServerExit.Unavailable,
                        $"Redis did not answer ({redis.FailureType}): check that it runs and that Mpc__Cluster__RedisConnectionString names it");
                case Orleans.Runtime.MembershipService.OrleansClusterConnectivityCheckFailedException:
                    return (ServerExit.Unavailable,
                        "the silos the membership table lists as active did not answer within the join timeout: start them, or wait until " +
                        "the dead ones are declared dead (about ten seconds), then start this silo again");
            }
        }
        return null;
    }
}

/// <summary>A command line `mpc-server` cannot use; one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
