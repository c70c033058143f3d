using Mpc.Crypto;
using Mpc.Crypto.BigNum;

namespace Mpc.Client;

/// <summary>
/// Which big-number arithmetic the client's Paillier and proof work runs on: an opaque choice, so the SDK's public
/// surface shows no big-number type. <see cref="OpenSsl"/> is constant-time and about nine times faster than
/// <see cref="Managed"/> (docs/benchmarks.md); <see cref="Default"/> is OpenSSL whenever libcrypto can be loaded.
/// </summary>
public sealed class MpcArithmetic
{
    private readonly Lazy<IBigNumBackend> _backend;

    private MpcArithmetic(string choice, Func<IBigNumBackend> create)
    {
        Choice = choice;
        _backend = new Lazy<IBigNumBackend>(create);
    }

    /// <summary>
    /// The process default: OpenSSL's constant-time routines when libcrypto can be loaded, otherwise the managed
    /// (variable-time) arithmetic; the <c>MPC_BIGNUM_BACKEND</c> environment variable (<c>openssl</c>, <c>managed</c>,
    /// <c>auto</c>) overrides the choice for the whole process. Falling back is right on the client, which holds no
    /// Paillier secret of the server's; the server never falls back silently (Mpc.Server's ServerBigNumBackend refuses
    /// to start on the managed backend unless it is named).
    /// </summary>
    public static MpcArithmetic Default { get; } = new("default", () => BigNumBackends.Default);

    /// <summary>OpenSSL libcrypto, constant-time; using it fails (<see cref="MpcErrorReason.BackendUnavailable"/>) when libcrypto cannot be loaded.</summary>
    public static MpcArithmetic OpenSsl { get; } = new("openssl", () => BigNumBackends.Create(BigNumBackendKind.OpenSsl));

    /// <summary>BouncyCastle's managed arithmetic: runs everywhere, but variable-time and slower; named explicitly, never chosen silently by this type.</summary>
    public static MpcArithmetic Managed { get; } = new("managed", () => BigNumBackends.Create(BigNumBackendKind.Managed));

    /// <summary>The choice named <paramref name="choice"/> (<c>default</c>, <c>openssl</c>, <c>managed</c>; any case), or null for another name.</summary>
    public static MpcArithmetic? FromName(string? choice) => choice?.Trim().ToLowerInvariant() switch
    {
        "default" or "" => Default,
        "openssl" => OpenSsl,
        "managed" => Managed,
        _ => null,
    };

    /// <summary>What was asked for: <c>default</c>, <c>openssl</c>, <c>managed</c> (or the name of an internal engine).</summary>
    public string Choice { get; }

    /// <summary>The arithmetic actually used (<c>openssl</c> or <c>managed</c>; <see cref="Default"/> resolves to one of them).</summary>
    /// <exception cref="MpcSignerException"><see cref="MpcErrorReason.BackendUnavailable"/>: OpenSSL was asked for and cannot be loaded.</exception>
    public string Name => Backend.Name;

    /// <summary>True when secret-dependent operations run in constant time (OpenSSL).</summary>
    /// <exception cref="MpcSignerException"><see cref="MpcErrorReason.BackendUnavailable"/>: OpenSSL was asked for and cannot be loaded.</exception>
    public bool IsConstantTime => Backend.IsConstantTime;

    /// <summary>The engine behind the choice, created on first use.</summary>
    internal IBigNumBackend Backend
    {
        get
        {
            try
            {
                return _backend.Value;
            }
            catch (MpcProtocolException e)
            {
                throw MpcSignerException.From(e);
            }
        }
    }

    /// <summary>
    /// An engine the SDK does not ship (the browser client's JavaScript BigInt arithmetic): internal, so the public
    /// surface stays free of big-number types; the browser reaches it through InternalsVisibleTo.
    /// </summary>
    internal static MpcArithmetic From(IBigNumBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return new MpcArithmetic(backend.Name, () => backend);
    }

    /// <inheritdoc/>
    public override string ToString() => $"MpcArithmetic({Choice})";
}
