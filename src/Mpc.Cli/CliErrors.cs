using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using Grpc.Core;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Crypto;

namespace Mpc.Cli;

/// <summary>
/// How `mpc` ends. Stable: scripts branch on these, and README.md and docs/operations.md list them.
/// </summary>
internal enum CliExit
{
    Ok = 0,

    /// <summary>Any other failure: the server's answer failed a check here, a time-stamping authority refused or answered wrongly, an unexpected error. (Any status the server sends, Internal included, is <see cref="Refused"/>.)</summary>
    Failed = 1,

    /// <summary>The command line is wrong: unknown or missing option, malformed value, options that exclude each other, no server given.</summary>
    Usage = 2,

    /// <summary>Something checked here does not verify: a signature, a CMS, an audit chain, a handover or its confirmation code.</summary>
    VerificationFailed = 3,

    /// <summary>The server answered with a status: a refusal (token, permission, unknown key, frozen key, rate limit...) or its own failure (Internal).</summary>
    Refused = 4,

    /// <summary>No answer from the server (or from the time-stamping authority of `mpc sign --tsa`): nothing listening, unknown host, TLS handshake failed, timed out.</summary>
    Unreachable = 5,

    /// <summary>A local file, passphrase, password, key file or token is missing or unusable.</summary>
    LocalInput = 6,

    /// <summary>A refresh (import, restore, enrolment, backup) may or may not have completed: run the command again to settle it.</summary>
    OutcomeUnknown = 7,

    /// <summary>Interrupted (Ctrl+C), as shells report SIGINT.</summary>
    Cancelled = 130,
}

/// <summary>A failure the user can act on; printed as one line, ending the command with <see cref="Exit"/>.</summary>
internal sealed class CliException(string message, CliExit exit = CliExit.Failed) : Exception(message)
{
    public CliExit Exit { get; } = exit;

    public static CliException Usage(string message) => new(message, CliExit.Usage);

    public static CliException LocalInput(string message) => new(message, CliExit.LocalInput);

    public static CliException VerificationFailed(string message) => new(message, CliExit.VerificationFailed);
}

/// <summary>The one place the CLI turns failures into a one-line message and an exit code (<see cref="CliExit"/>).</summary>
internal static class CliErrors
{
    /// <summary>Runs a command's action; a failure becomes one "error: ..." line on stderr and its exit code.</summary>
    public static Task<int> Run(Func<Task<int>> action) => Run(server: null, action);

    /// <summary>As <see cref="Run(Func{Task{int}})"/>, naming the command's server (its --server or MPC_SERVER) when it cannot be reached.</summary>
    public static Task<int> Run(ParseResult parse, Func<Task<int>> action) => Run(ServerOf(parse), action);

    private static async Task<int> Run(string? server, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e)
        {
            (CliExit exit, string message) = Describe(e, server);
            Console.Error.WriteLine($"error: {message}");
            return (int)exit;
        }
    }

    /// <summary>One line for System.CommandLine's parse errors (unknown option, missing value...): a usage error.</summary>
    public static int ReportParseErrors(ParseResult parse)
    {
        string errors = string.Join("; ", parse.Errors.Select(e => OneLine(e.Message).TrimEnd('.')).Distinct());
        var names = new Stack<string>();
        for (SymbolResult? result = parse.CommandResult; result is CommandResult { Parent: not null } command; result = command.Parent)
        {
            names.Push(command.Command.Name); // the root (the executable's name) is left out: it is "mpc"
        }
        Console.Error.WriteLine($"error: {errors} (see {string.Join(' ', names.Prepend("mpc"))} --help)");
        return (int)CliExit.Usage;
    }

    /// <summary>The exit code and the one-line message for a failure. Decided by type, reason and status code, never by message text.</summary>
    internal static (CliExit Exit, string Message) Describe(Exception e, string? server)
    {
        (CliExit exit, string message) = Classify(e, server);
        return (exit, OneLine(message));
    }

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));

    private static (CliExit Exit, string Message) Classify(Exception e, string? server) => e switch
    {
        CliException cli => (cli.Exit, cli.Message),
        MpcRefreshOutcomeUnknownException => (CliExit.OutcomeUnknown, $"{e.Message}; run the same command again to settle it"),
        MpcSignerException { Status: StatusCode.Unavailable } => (CliExit.Unreachable, NotReachable(e, server)),
        MpcSignerException { Status: not null } when Causes(e).Any(c => c is HttpRequestException or AuthenticationException or SocketException) =>
            (CliExit.Unreachable, NotReachable(e, server)), // "Error starting gRPC call" comes as Internal: no server answered
        MpcSignerException { Status: StatusCode.DeadlineExceeded } =>
            (CliExit.Unreachable, $"{TheServer(server)} did not answer in time: check that it is running and not overloaded, then try again"),
        MpcSignerException { Status: not null } signer => (CliExit.Refused, $"the server refused: {signer.Message}"),
        HttpRequestException => (CliExit.Unreachable, NotReachable(e, server)),
        // From here on, failures this side detected: decided by reason.
        MpcSignerException { Reason: MpcErrorReason.HandoverRejected or MpcErrorReason.CodeMismatch } => (CliExit.VerificationFailed, e.Message),
        MpcSignerException { Reason: MpcErrorReason.UnrecognisedFormat } =>
            (CliExit.LocalInput, $"{e.Message}: give --in a PKCS#12 (.p12/.pfx) or a PEM private key (PKCS#8 or SEC1)"),
        MpcSignerException { Reason: MpcErrorReason.UnsupportedCurve } => (CliExit.Usage, e.Message),
        // A time-stamping authority is another server: no answer is Unreachable, a refusal or a wrong answer Failed.
        MpcSignerException { Reason: MpcErrorReason.TimestampUnavailable } => (CliExit.Unreachable, e.Message),
        MpcSignerException { Reason: MpcErrorReason.TimestampRefused } => (CliExit.Failed, e.Message),
        MpcSignerException local when IsLocalInput(local.Reason) => (CliExit.LocalInput, Hint(local)),
        MpcSignerException => (CliExit.Failed, e.Message), // a protocol check of the server's answer failed
        MpcProtocolException { Code: MpcErrorCode.UnsupportedCurve } => (CliExit.Usage, e.Message),
        MpcProtocolException => (CliExit.Failed, e.Message),
        // The mpc-server program `mpc demo` starts is missing or did not start.
        ServerProcessException => (CliExit.LocalInput, e.Message),
        FileNotFoundException notFound => (CliExit.LocalInput, $"file not found: {notFound.FileName ?? notFound.Message}; check the path"),
        DirectoryNotFoundException => (CliExit.LocalInput, MissingDirectory(e.Message) is { } missing
            ? $"the directory {missing} does not exist: check the path"
            : $"{e.Message.TrimEnd('.')}: check the path"),
        UnauthorizedAccessException => (CliExit.LocalInput, DirectoryNamed(e.Message) is { } directory
            ? $"{directory} is a directory, not a file: check the path"
            : $"{e.Message.TrimEnd('.')}: check the path and the file's permissions"),
        IOException => (CliExit.LocalInput, e.Message.TrimEnd('.')),
        CryptographicException => (CliExit.LocalInput, $"invalid key, certificate or signature data ({e.Message})"),
        // .NET appends " (Parameter 'label')" to an ArgumentException's message: the parameter is the SDK's, not an option.
        ArgumentException { ParamName: { } parameter } argument =>
            (CliExit.Usage, argument.Message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal)),
        FormatException or ArgumentException => (CliExit.Usage, e.Message),
        OperationCanceledException => (CliExit.Cancelled, "cancelled"),
        _ => (CliExit.Failed, $"unexpected {e.GetType().Name}: {e.Message} (please report this)"),
    };

    /// <summary>
    /// The path of "Access to the path 'P' is denied." when P is a directory this user may read: .NET reports opening one
    /// as a file so (EISDIR and EACCES alike), and a user told about permissions looks in the wrong place. Null
    /// otherwise (a directory this user may not read is a permission problem after all), the message then shown as it is.
    /// </summary>
    private static string? DirectoryNamed(string message)
    {
        if (QuotedPath(message) is not { } path)
        {
            return null;
        }
        try
        {
            _ = Directory.EnumerateFileSystemEntries(path).Any();
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// The directory that is missing in "Could not find a part of the path 'P'.": P may be a file the command makes
    /// beside the one named (a key file's lock), so the line names the directory the user gave, not P.
    /// </summary>
    private static string? MissingDirectory(string message) =>
        QuotedPath(message) is { } path && Path.GetDirectoryName(path) is { Length: > 0 } directory && !Directory.Exists(directory)
            ? directory
            : null;

    /// <summary>The path .NET's file-system messages quote ('P'), or null.</summary>
    private static string? QuotedPath(string message)
    {
        int start = message.IndexOf('\'');
        int end = message.LastIndexOf('\'');
        return start >= 0 && end > start + 1 ? message[(start + 1)..end] : null;
    }

    private static string TheServer(string? server) => server is null ? "the server" : $"the server at {server}";

    /// <summary>Why the connection failed, from the transport's own exceptions (by type and socket error, not by text).</summary>
    private static string NotReachable(Exception e, string? server)
    {
        List<Exception> chain = Causes(e);
        if (chain.OfType<AuthenticationException>().FirstOrDefault() is { } tls)
        {
            return $"the TLS handshake with {TheServer(server)} failed ({tls.Message.TrimEnd('.')}): if it uses a private CA, pass {CommonOptions.CaCertOption} CA.pem; check that the URL is https only if the server speaks TLS";
        }
        string reason = chain.OfType<SocketException>().FirstOrDefault()?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "nothing is listening there",
            SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "the host name does not resolve",
            SocketError.TimedOut => "the connection timed out",
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => "no route to the host",
            SocketError.ConnectionReset or SocketError.ConnectionAborted => "the connection was reset",
            null => "no gRPC answer",
            SocketError other => other.ToString(),
        };
        return $"{TheServer(server)} is not reachable ({reason}): check the URL and port (--server or ${CommonOptions.ServerVariable}), that the server is running, and any firewall or proxy in between";
    }

    /// <summary><paramref name="e"/> and what caused it, through gRPC's debug exception.</summary>
    private static List<Exception> Causes(Exception e)
    {
        List<Exception> chain = [];
        for (Exception? inner = e; inner is not null && chain.Count < 16; inner = inner is RpcException rpc ? rpc.Status.DebugException ?? rpc.InnerException : inner.InnerException)
        {
            chain.Add(inner);
        }
        return chain;
    }

    /// <summary>A file or input on this side that cannot be used (key file, backup, handover, profile, key to import, document signature).</summary>
    private static bool IsLocalInput(MpcErrorReason reason) => (int)reason >= (int)MpcErrorReason.KeyFileNotFound;

    private static string Hint(MpcSignerException e) => e.Reason switch
    {
        MpcErrorReason.KeyFileNotFound => $"{e.Message}; check --key",
        MpcErrorReason.WrongKind => $"{e.Message}: check which file or token you gave",
        MpcErrorReason.WrongPassphrase => $"{e.Message}; check the passphrase",
        MpcErrorReason.KeyFileCorrupt or MpcErrorReason.KeyFileInconsistent => $"{e.Message}; restore the key from a backup (mpc restore) or another device",
        MpcErrorReason.UnsupportedVersion => $"{e.Message}; use the mpc version that wrote it",
        _ => e.Message,
    };

    /// <summary>The command's server as given (--server, else MPC_SERVER); null for commands without one.</summary>
    private static string? ServerOf(ParseResult parse)
    {
        Option? server = parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--server");
        string? value = server is Option<string?> typed ? parse.GetValue(typed) : null;
        return server is null ? null : value ?? Environment.GetEnvironmentVariable(CommonOptions.ServerVariable);
    }
}
