namespace Mpc.Grains;

/// <summary>Server-side policy for keys and protocol sessions.</summary>
public sealed class SignerOptions
{
    /// <summary>Paillier modulus size for new keys: 2048 (default) or 3072.</summary>
    public int PaillierModulusBits { get; set; } = 2048;

    /// <summary>How long a key generation may wait between its two calls.</summary>
    public TimeSpan KeyGenSessionLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a signing session (and a commitment handed out for the next signature) stays usable.
    /// Sessions live only in grain memory; an expired one is simply forgotten.
    /// </summary>
    public TimeSpan SignSessionLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Open signing sessions allowed per key, so no caller can make the grain hoard nonces.</summary>
    public int MaxOpenSessionsPerKey { get; set; } = 64;
}

/// <summary>Names of the grain storage providers.</summary>
public static class StorageNames
{
    public const string Keys = "mpc-keys";
}

/// <summary>Grain type names, fixed so that renaming a class never orphans stored state.</summary>
public static class GrainTypes
{
    public const string UserKeys = "mpc-userkeys";
    public const string KeyOwner = "mpc-keyowner";
}
