using Mpc.Grains.Abstractions;

namespace Mpc.Grains;

/// <summary>
/// Caps on what a user can make the server store, so the user's record stays far below every storage limit
/// (FileGrainStorage: 1 MiB per record; Redis: 512 MiB per value). docs/service.md ("Limits") derives the worst
/// case from these numbers; <c>UserStateLimitsTests</c> serializes it. Each refusal is ResourceExhausted.
/// </summary>
internal static class UserStateLimits
{
    public const int MaxKeysPerUser = 32;

    /// <summary>Live share pairs (devices and backups) of one key.</summary>
    public const int MaxDevicesPerKey = 16;

    /// <summary>Live share pairs over all of a user's keys: each holds a sealed Paillier key (about 1-2 KiB).</summary>
    public const int MaxDevicesPerUser = 64;

    /// <summary>Revoked pairs kept per key (so their clients hear "revoked", not "unknown"); older ones are dropped.</summary>
    public const int RememberedRevocationsPerKey = 4;

    public const int RememberedReplacedSharesPerDevice = 16;

    public const int MaxChainBytesPerKey = CertificateChains.MaxTotalBytes;

    public const int MaxChainBytesPerUser = 128 * 1024;

    /// <summary>Revocation reasons quote an operator's name: cut to this many characters.</summary>
    public const int MaxReasonLength = 120;

    /// <summary>Refuses a new key when the user has <see cref="MaxKeysPerUser"/> keys (counting those being created).</summary>
    public static void RequireKeyCapacity(UserKeysState state, int inProgress)
    {
        if (state.Keys.Count + inProgress >= MaxKeysPerUser)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"This user has {state.Keys.Count} keys{(inProgress > 0 ? $" and {inProgress} being created" : "")}; at most {MaxKeysPerUser} are allowed.");
        }
    }

    /// <summary>Refuses one more live share pair when the user has <see cref="MaxDevicesPerUser"/>.</summary>
    public static void RequireDeviceCapacity(UserKeysState state)
    {
        int live = state.Keys.Values.Sum(k => k.Devices.Values.Count(d => !d.Revoked));
        if (live >= MaxDevicesPerUser)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"This user's keys have {live} devices and backups in all; at most {MaxDevicesPerUser} are allowed. Revoke some first.");
        }
    }

    /// <summary>Refuses <paramref name="chain"/> for <paramref name="keyId"/> when the user's chains would pass <see cref="MaxChainBytesPerUser"/>.</summary>
    public static void RequireChainCapacity(UserKeysState state, string keyId, IReadOnlyList<byte[]> chain)
    {
        long others = state.Keys.Values.Where(k => k.KeyId != keyId).Sum(k => k.CertificateChain.Sum(c => (long)c.Length));
        long total = others + chain.Sum(c => (long)c.Length);
        if (total > MaxChainBytesPerUser)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"This user's certificate chains would take {total} bytes; at most {MaxChainBytesPerUser} are allowed over all keys (the other keys' chains take {others}).");
        }
    }
}
