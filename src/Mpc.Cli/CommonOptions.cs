using System.CommandLine;
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

    public static Option<string?> Server() => new("--server") { Description = $"Server URL, e.g. http://127.0.0.1:7443 (or ${ServerVariable})" };

    public static Option<string?> Token() => new("--token") { Description = $"Bearer token (or ${TokenVariable})" };

    public static Option<string?> Passphrase() => new("--passphrase") { Description = "Key file passphrase (prefer --passphrase-env or the prompt: options show in process lists)" };

    public static Option<string?> PassphraseEnv() => new("--passphrase-env") { Description = $"Name of an environment variable holding the passphrase (default {PassphraseVariable})" };

    public static Option<bool> Unprotected() => new("--unprotected") { Description = "Store the client share without a passphrase (tests and throwaway keys only)" };

    public static Uri ServerUrl(string? value)
    {
        string? url = value ?? Environment.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new CliException($"no server given: use --server URL or set {ServerVariable}");
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new CliException($"'{url}' is not an http(s) URL");
        }
        return uri;
    }

    public static string TokenValue(string? value)
    {
        string? token = value ?? Environment.GetEnvironmentVariable(TokenVariable);
        return string.IsNullOrWhiteSpace(token)
            ? throw new CliException($"no token given: use --token T or set {TokenVariable} (mpc token prints one for the embedded server)")
            : token.Trim();
    }

    /// <summary>The token's subject, for labelling the key file; the server does the real validation.</summary>
    public static string UserOf(string token)
    {
        try
        {
            return new JsonWebToken(token).Subject is { Length: > 0 } subject ? subject : throw new CliException("the token has no subject");
        }
        catch (ArgumentException)
        {
            throw new CliException("the token is not a JWT");
        }
    }

    /// <summary>Passphrase from --passphrase, the named (or default) environment variable, or a prompt; or none with --unprotected.</summary>
    public static KeyFileProtection Protection(string? passphrase, string? passphraseEnv, bool unprotected, bool confirm)
    {
        if (unprotected)
        {
            return passphrase is null ? KeyFileProtection.Unprotected() : throw new CliException("--unprotected and --passphrase exclude each other");
        }
        return KeyFileProtection.Passphrase(Secret(passphrase, passphraseEnv, PassphraseVariable, "Passphrase", confirm, "or --unprotected"));
    }

    /// <summary>
    /// A passphrase or password from the option, the named (or default) environment variable, or a prompt
    /// (repeated when <paramref name="confirm"/>). Never empty.
    /// </summary>
    public static string Secret(string? value, string? variableName, string defaultVariable, string label, bool confirm, string alternatives = "")
    {
        if (!string.IsNullOrEmpty(value))
        {
            return value;
        }
        string variable = variableName ?? defaultVariable;
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }
        if (variableName is not null)
        {
            throw new CliException($"environment variable {variableName} is not set");
        }
        if (Console.IsInputRedirected)
        {
            throw new CliException($"no {label.ToLowerInvariant()}: set {defaultVariable} or name a variable with the -env option{(alternatives.Length > 0 ? ", " + alternatives : "")}");
        }
        string first = Prompt(label + ": ");
        if (confirm && Prompt("Repeat " + label.ToLowerInvariant() + ": ") != first)
        {
            throw new CliException($"the {label.ToLowerInvariant()}s differ");
        }
        return first.Length > 0 ? first : throw new CliException($"empty {label.ToLowerInvariant()}");
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

    public static MpcSignerClient Client(Uri server, string token) => new(server, token);
}
