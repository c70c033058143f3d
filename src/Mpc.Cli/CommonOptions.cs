using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Mpc.Client;
using Mpc.Client.KeyStore;

namespace Mpc.Cli;

/// <summary>Options shared by several commands, and how their values are resolved.</summary>
internal static class CommonOptions
{
    public const string ServerVariable = "MPC_SERVER";
    public const string TokenVariable = "MPC_TOKEN";
    public const string PassphraseVariable = "MPC_PASSPHRASE";

    public const string InsecureHttpOption = "--insecure-http";
    public const string CaCertOption = "--ca-cert";
    private const string TokenFileOption = "--token-file";
    public const string PassphraseEnvOption = "--passphrase-env";
    public const string UnprotectedOption = "--unprotected";

    public static Option<string?> Server() => new("--server") { Description = $"Server URL, e.g. https://signer.example:7443 (or ${ServerVariable}); plain http only to loopback unless {InsecureHttpOption}" };

    /// <summary>The bearer token comes from a file or the environment, never from the command line (process lists, shell history).</summary>
    public static Option<string?> Token() => new(TokenFileOption) { Description = $"File holding the bearer token (default: ${TokenVariable})" };

    public static Option<string?> PassphraseEnv() => new(PassphraseEnvOption) { Description = $"Name of an environment variable holding the passphrase (default {PassphraseVariable}; otherwise a prompt)" };

    /// <summary>--unprotected on a command that writes a new key file.</summary>
    public static Option<bool> StoreUnprotected() => new(UnprotectedOption) { Description = "Store the new client share without a passphrase (tests and throwaway keys only)" };

    /// <summary>--unprotected on a command that reads a key file (<paramref name="more"/> says what happens to a file it rewrites).</summary>
    public static Option<bool> OpenUnprotected(string more = "") =>
        new(UnprotectedOption) { Description = $"Accept a key file stored without a passphrase (made with {UnprotectedOption}); without this such a file is refused{more}" };

    /// <summary>--json: <paramref name="what"/> as one JSON document on stdout, written by <see cref="CliJson"/>.</summary>
    public static Option<bool> Json(string what) => new("--json") { Description = $"Print {what} as one JSON document (docs/operations.md, \"JSON output\")" };

    /// <summary>
    /// Adds, to every command that talks to a server, <c>--insecure-http</c> and <c>--ca-cert</c>; and to every command
    /// that takes a token or passphrase, hidden <c>--token</c> / <c>--passphrase</c> options that exist only to be
    /// refused with a pointer to the safe ways (<see cref="RefuseBeforeRunning"/>).
    /// </summary>
    public static void AddSafetyOptions(Command command)
    {
        bool Has(string name) => command.Options.Any(o => o.Name == name);
        if (command.Options.Any(o => o.Name == "--server" && o is Option<string?>))
        {
            command.Options.Add(new Option<bool>(InsecureHttpOption) { Description = "Allow plain http to a host that is not loopback: the token and refresh randomisers travel in clear (a warning on every call)" });
            command.Options.Add(new Option<string?>(CaCertOption) { Description = "PEM file of a private CA to trust for the server's TLS certificate (instead of the system's roots)" });
        }
        if (Has(TokenFileOption))
        {
            command.Options.Add(new Option<string?>("--token") { Hidden = true });
        }
        if (Has(PassphraseEnvOption))
        {
            command.Options.Add(new Option<string?>("--passphrase") { Hidden = true });
        }
        foreach (Command child in command.Subcommands)
        {
            AddSafetyOptions(child);
        }
    }

    /// <summary>
    /// What must be refused before a command runs (before a file is read or a name resolved): a secret given on the
    /// command line, and a plain-http server that is not loopback without <c>--insecure-http</c>. Null when none.
    /// </summary>
    public static string? RefuseBeforeRunning(ParseResult parse)
    {
        Command command = parse.CommandResult.Command;
        Option? Find(string name) => command.Options.FirstOrDefault(o => o.Name == name);
        if (Find("--token") is Option<string?> token && Find(TokenFileOption) is not null && parse.GetResult(token) is not null)
        {
            return $"--token is refused: a token on the command line shows in process lists and shell history; set {TokenVariable} or use {TokenFileOption} FILE";
        }
        if (Find("--passphrase") is Option<string?> passphrase && parse.GetResult(passphrase) is not null)
        {
            return $"--passphrase is refused: a passphrase on the command line shows in process lists and shell history; set {PassphraseVariable}, name a variable with {PassphraseEnvOption}, or type it at the prompt";
        }
        if (Find("--server") is Option<string?> server && Find(InsecureHttpOption) is Option<bool> insecure)
        {
            try
            {
                string? value = parse.GetValue(server) ?? Environment.GetEnvironmentVariable(ServerVariable);
                if (!string.IsNullOrWhiteSpace(value))
                {
                    ServerUrl(value, parse.GetValue(insecure));
                }
            }
            catch (CliException e)
            {
                return e.Message;
            }
        }
        return null;
    }

    /// <summary>
    /// The server URL from the option or <see cref="ServerVariable"/>. Plain http is refused for any host that is
    /// not loopback unless <paramref name="allowInsecureHttp"/>: checked on the text, before any name is resolved.
    /// </summary>
    public static Uri ServerUrl(string? value, bool allowInsecureHttp = false)
    {
        string? url = value ?? Environment.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrWhiteSpace(url))
        {
            throw CliException.Usage($"no server given: use --server URL or set {ServerVariable}");
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw CliException.Usage($"'{url}' is not an http(s) URL: give --server as https://HOST:PORT (or http://127.0.0.1:PORT for a local server)");
        }
        if (uri.Scheme == "http" && !uri.IsLoopback && !allowInsecureHttp)
        {
            throw CliException.Usage($"refusing plain http to {uri.Host}: the token and refresh randomisers would travel in clear; use https, or pass {InsecureHttpOption} to accept that");
        }
        return uri;
    }

    /// <summary>The token from <paramref name="tokenFile"/>, else <see cref="TokenVariable"/>.</summary>
    public static string TokenValue(string? tokenFile)
    {
        string? token = tokenFile is not null ? File.ReadAllText(tokenFile) : Environment.GetEnvironmentVariable(TokenVariable);
        return string.IsNullOrWhiteSpace(token)
            ? throw (tokenFile is not null
                ? CliException.LocalInput($"{tokenFile} holds no token: write the bearer token into it")
                : CliException.Usage($"no token given: set {TokenVariable} or use {TokenFileOption} FILE (mpc-server token prints one for a development server)"))
            : token.Trim();
    }

    /// <summary>A client for the command's --server, token, --insecure-http and --ca-cert.</summary>
    public static MpcSignerClient Client(ParseResult parse, Option<string?> server, Option<string?> token, Action<MpcSignerClientOptions>? configure = null) =>
        Client(parse, server, TokenValue(parse.GetValue(token)), configure);

    /// <summary>
    /// A client for the command's --server, --insecure-http and --ca-cert, with a token already read;
    /// <paramref name="configure"/> adds the rest (the device profile: <see cref="DeviceProfileCli.For"/>).
    /// </summary>
    public static MpcSignerClient Client(ParseResult parse, Option<string?> server, string token, Action<MpcSignerClientOptions>? configure = null)
    {
        bool insecure = parse.GetValue<bool>(InsecureHttpOption);
        Uri url = ServerUrl(parse.GetValue(server), insecure);
        var options = new MpcSignerClientOptions { AllowInsecureHttp = insecure };
        if (parse.GetValue<string?>(CaCertOption) is { } caFile)
        {
            var roots = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            options.TrustedCaCertificates = roots.Count > 0 ? roots : throw CliException.LocalInput($"{CaCertOption} {caFile} holds no PEM certificate: give the PEM file of the CA that issued the server's certificate");
        }
        if (insecure)
        {
            options.LoggerFactory = new StderrWarnings();
        }
        configure?.Invoke(options);
        return new MpcSignerClient(url, token, options);
    }

    /// <summary>The token's subject, for labelling the key file; the server does the real validation.</summary>
    public static string UserOf(string token)
    {
        try
        {
            return new JsonWebToken(token).Subject is { Length: > 0 } subject ? subject : throw CliException.LocalInput("the token has no subject (sub claim): ask for a token issued to a user");
        }
        catch (ArgumentException)
        {
            throw CliException.LocalInput($"the token is not a JWT: check {TokenVariable} or the {TokenFileOption} file (it must hold the token only)");
        }
    }

    /// <summary>
    /// The protection of a key file about to be written: a passphrase from the named (or default) environment variable
    /// or a prompt (asked twice); or none with --unprotected.
    /// </summary>
    public static KeyFileProtection Protection(string? passphraseEnv, bool unprotected, bool confirm) =>
        unprotected
            ? KeyFileProtection.Unprotected()
            : KeyFileProtection.Passphrase(Secret(passphraseEnv, PassphraseVariable, PassphraseEnvOption, "Passphrase", confirm,
                $", or pass {UnprotectedOption} for a throwaway key"));

    /// <summary>The passphrase of an existing key file, from the named (or default) environment variable or a prompt.</summary>
    public static string KeyFilePassphrase(string? passphraseEnv) =>
        Secret(passphraseEnv, PassphraseVariable, PassphraseEnvOption, "Passphrase", confirm: false);

    /// <summary>
    /// A passphrase or password from the variable named by <paramref name="envOption"/> (else <paramref name="defaultVariable"/>),
    /// or a prompt (repeated when <paramref name="confirm"/>). Never empty, never from the command line.
    /// </summary>
    /// <param name="variableName">The variable the user named with <paramref name="envOption"/>, or null.</param>
    /// <param name="defaultVariable">The variable read when none is named.</param>
    /// <param name="envOption">The option that names a variable (--passphrase-env, --backup-passphrase-env...), for the errors.</param>
    /// <param name="label">What is asked for, as the prompt shows it.</param>
    /// <param name="confirm">Ask twice (a secret being set, not checked).</param>
    /// <param name="alternatives">Other ways out, appended to the error when there is neither a variable nor a terminal (", or ...").</param>
    public static string Secret(string? variableName, string defaultVariable, string envOption, string label, bool confirm, string alternatives = "")
    {
        string variable = variableName ?? defaultVariable;
        string what = label.ToLowerInvariant();
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }
        if (variableName is not null)
        {
            throw CliException.LocalInput(
                $"environment variable {variableName} (named by {envOption}) is not set or empty: export it, or leave out {envOption} to use {defaultVariable} or the prompt");
        }
        if (Console.IsInputRedirected)
        {
            throw CliException.LocalInput(
                $"no {what} and no terminal to ask for it: set {defaultVariable}, or name another variable with {envOption} NAME{alternatives}");
        }
        string first = Prompt(label + ": ");
        if (confirm && Prompt("Repeat " + what + ": ") != first)
        {
            throw CliException.LocalInput($"the {what}s differ: run the command again and type the same {what} twice");
        }
        return first.Length > 0 ? first : throw CliException.LocalInput($"empty {what}: type one, or set {defaultVariable}");
    }

    /// <summary>A line typed at the terminal (shown as typed); without a terminal, an error naming <paramref name="option"/>.</summary>
    public static string PromptLine(string label, string option)
    {
        if (Console.IsInputRedirected)
        {
            throw CliException.Usage($"no terminal to ask for it: give {option}");
        }
        Console.Error.Write(label + ": ");
        return Console.ReadLine() ?? throw CliException.Usage($"no input: give {option}");
    }

    private static string Prompt(string label)
    {
        Console.Error.Write(label);
        var text = new System.Text.StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return text.ToString();
            }
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                {
                    text.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }
    }

}

/// <summary>The SDK's warnings (insecure transport) as one "warning:" line each on stderr.</summary>
internal sealed class StderrWarnings : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILoggerProvider, Microsoft.Extensions.Logging.ILogger
{
    // Its own factory: the CLI needs no logging framework (Microsoft.Extensions.Logging) for one stderr line.
    public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
    {
    }

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith("Mpc.", StringComparison.Ordinal) ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Warning;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Console.Error.WriteLine($"warning: {formatter(state, exception)}");
        }
    }

    public void Dispose()
    {
    }
}
