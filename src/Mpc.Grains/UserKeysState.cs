namespace Mpc.Grains;

/// <summary>What a user's grain persists: public facts in clear, the server share only sealed.</summary>
[GenerateSerializer, Alias("mpc.UserKeysState")]
public sealed class UserKeysState
{
    [Id(0)]
    public Dictionary<string, StoredKey> Keys { get; set; } = [];
}

[GenerateSerializer, Alias("mpc.StoredKey")]
public sealed class StoredKey
{
    [Id(0)]
    public string KeyId { get; set; } = "";

    [Id(1)]
    public int Curve { get; set; }

    /// <summary>The joint public key, SEC1 compressed.</summary>
    [Id(2)]
    public byte[] PublicKey { get; set; } = [];

    [Id(3)]
    public KeyStatus Status { get; set; } = KeyStatus.Active;

    [Id(4)]
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>x1, the Paillier primes and c_key, sealed (AES-256-GCM under a wrapped data key).</summary>
    [Id(5)]
    public byte[] SealedShare { get; set; } = [];

    [Id(6)]
    public DateTimeOffset? FrozenAt { get; set; }

    [Id(7)]
    public string? FrozenReason { get; set; }

    /// <summary>The key's X.509 certificate chain, leaf first, DER; empty when none was set. Public data.</summary>
    [Id(8)]
    public List<byte[]> CertificateChain { get; set; } = [];
}

[GenerateSerializer, Alias("mpc.KeyOwnerState")]
public sealed class KeyOwnerState
{
    [Id(0)]
    public string? Owner { get; set; }
}
