using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto;

namespace Mpc.Cli;

/// <summary>A failure the user can act on; printed as one line.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>The one place the CLI turns failures into a one-line message and an exit code.</summary>
internal static class CliErrors
{
    public static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Console.Error.WriteLine($"error: {message}");
            return 1;
        }
    }

    private static string? Describe(Exception e) => e switch
    {
        CliException or KeyFileException or MpcProtocolException or Mpc.Client.Documents.DocumentSignatureException
            or Mpc.Client.Custody.KeyImportException or Mpc.Client.Custody.CustodyException => e.Message,
        Mpc.Grains.Sealing.KeyEncryptionKeyException => $"master key: {e.Message}",
        MpcSignerException signer => $"the server refused: {signer.Message}",
        FileNotFoundException notFound => $"file not found: {notFound.FileName ?? notFound.Message}",
        DirectoryNotFoundException or UnauthorizedAccessException or IOException => e.Message,
        CryptographicException => $"invalid key or signature data ({e.Message})",
        FormatException or ArgumentException => e.Message,
        HttpRequestException http => $"cannot reach the server: {http.Message}",
        OperationCanceledException => "cancelled",
        _ => null,
    };
}
