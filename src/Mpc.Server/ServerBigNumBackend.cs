using Mpc.Crypto;
using Mpc.Crypto.BigNum;

namespace Mpc.Server;

/// <summary>
/// The big-number backend the server runs on, chosen once at start-up. The server holds the Paillier secret
/// key and decrypts client-chosen ciphertexts, so a variable-time backend is a timing oracle on its primes:
/// it is used only when named explicitly, never as a silent fallback for a missing libcrypto.
/// </summary>
public sealed class ServerBigNumBackend
{
    private ServerBigNumBackend(IBigNumBackend backend, string? namedBy)
    {
        Backend = backend;
        NamedBy = namedBy;
    }

    public IBigNumBackend Backend { get; }

    /// <summary>The setting that named the backend, or null when it was chosen by default.</summary>
    public string? NamedBy { get; }

    /// <summary>What the start-up log says, e.g. "openssl (constant time)".</summary>
    public string Description => Backend.IsConstantTime
        ? $"{Backend.Name} (constant time)"
        : $"{Backend.Name} (variable time, named by {NamedBy})";

    /// <summary>
    /// Applies the rule: the managed backend only when <see cref="BigNumServerOptions.Backend"/> (or, unset,
    /// MPC_BIGNUM_BACKEND) says "managed"; otherwise OpenSSL or a start-up error naming the setting.
    /// </summary>
    /// <param name="options">The server's Mpc:BigNum section.</param>
    /// <param name="environmentValue">MPC_BIGNUM_BACKEND's value (passed in so tests need not set the process environment).</param>
    /// <param name="create">Creates a backend of a kind; <see cref="BigNumBackends.Create"/> in production, a stand-in for a missing libcrypto in tests.</param>
    internal static ServerBigNumBackend Choose(BigNumServerOptions options, string? environmentValue, Func<BigNumBackendKind, IBigNumBackend> create)
    {
        (string? value, string setting) = string.IsNullOrWhiteSpace(options.Backend)
            ? (environmentValue, BigNumBackends.EnvironmentVariable)
            : (options.Backend, BigNumServerOptions.Setting);
        BigNumBackendKind kind = BigNumBackends.Parse(value, setting);
        if (kind == BigNumBackendKind.Managed)
        {
            return new ServerBigNumBackend(create(BigNumBackendKind.Managed), setting);
        }
        IBigNumBackend backend;
        try
        {
            backend = create(BigNumBackendKind.OpenSsl);
        }
        catch (MpcProtocolException e) when (e.Code == MpcErrorCode.BackendUnavailable)
        {
            throw new InvalidOperationException(
                $"{e.Message}; the server does not run on the variable-time managed backend unless {BigNumServerOptions.Setting}=managed says so.", e);
        }
        if (!backend.IsConstantTime)
        {
            throw new InvalidOperationException(
                $"The {backend.Name} backend is not constant-time; the server uses it only when {BigNumServerOptions.Setting}=managed says so.");
        }
        return new ServerBigNumBackend(backend, kind == BigNumBackendKind.OpenSsl ? setting : null);
    }
}
