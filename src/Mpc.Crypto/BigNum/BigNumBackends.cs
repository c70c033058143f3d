namespace Mpc.Crypto.BigNum;

/// <summary>Chooses a big-number backend, honouring the <c>MPC_BIGNUM_BACKEND</c> override.</summary>
public static class BigNumBackends
{
    /// <summary>Environment variable that forces a backend: <c>openssl</c>, <c>managed</c> or <c>auto</c>.</summary>
    public const string EnvironmentVariable = "MPC_BIGNUM_BACKEND";

    private static readonly Lazy<IBigNumBackend> DefaultBackend = new(() => Create(FromEnvironment()));

    /// <summary>The process-wide default: chosen once from the environment, immutable afterwards.</summary>
    public static IBigNumBackend Default => DefaultBackend.Value;

    public static BigNumBackendKind FromEnvironment() =>
        Parse(Environment.GetEnvironmentVariable(EnvironmentVariable), EnvironmentVariable);

    /// <summary>Reads "openssl", "managed" or "auto" (empty: auto); <paramref name="setting"/> names the source in the error.</summary>
    public static BigNumBackendKind Parse(string? value, string setting) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => BigNumBackendKind.Auto,
        "openssl" => BigNumBackendKind.OpenSsl,
        "managed" => BigNumBackendKind.Managed,
        _ => throw new InvalidOperationException($"{setting} must be 'openssl', 'managed' or 'auto' (was '{value}')."),
    };

    /// <summary>Creates a backend; <see cref="BigNumBackendKind.OpenSsl"/> throws if libcrypto cannot be loaded.</summary>
    public static IBigNumBackend Create(BigNumBackendKind kind) => kind switch
    {
        BigNumBackendKind.Managed => new ManagedBigNumBackend(),
        BigNumBackendKind.OpenSsl => OpenSslBigNumBackend.TryCreate(out IBigNumBackend? backend, out string? reason)
            ? backend
            : throw new MpcProtocolException(MpcErrorCode.BackendUnavailable, $"OpenSSL libcrypto is not usable: {reason}"),
        _ => OpenSslBigNumBackend.TryCreate(out IBigNumBackend? backend, out _) ? backend : new ManagedBigNumBackend(),
    };
}
