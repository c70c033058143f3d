using Mpc.Grains.Abstractions;

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

    /// <summary>The key's <see cref="Mpc.Crypto.Curves.CurveKind"/>, stored as its number (the stored format since the first release).</summary>
    [Id(1)]
    public int Curve { get; set; }

    public Mpc.Crypto.Curves.CurveKind CurveKind => (Mpc.Crypto.Curves.CurveKind)Curve;

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

    /// <summary>Every share pair of the key, one per client device or backup; revoked ones stay as tombstones.</summary>
    [Id(9)]
    public Dictionary<string, StoredDevice> Devices { get; set; } = [];

    /// <summary>The device whose signature failed the final check, if the key is frozen.</summary>
    [Id(10)]
    public string? FrozenDevice { get; set; }

    /// <summary>True when the key was imported (its owner once held it whole) rather than generated jointly.</summary>
    [Id(11)]
    public bool Imported { get; set; }

    /// <summary>How many times an operator has lifted a freeze; capped, since each freeze may have leaked a bit.</summary>
    [Id(12)]
    public int Unfreezes { get; set; }

    /// <summary>
    /// The status record's generation of the key (<see cref="KeyStatusEntry.Generation"/>) when its share pairs were last
    /// changed; 0 in records written before generations existed.
    /// </summary>
    [Id(13)]
    public long Generation { get; set; }

    /// <summary>A copy to restore if a write fails: devices are copied, byte arrays are never mutated in place.</summary>
    public StoredKey Snapshot()
    {
        var copy = (StoredKey)MemberwiseClone();
        copy.Devices = Devices.ToDictionary(d => d.Key, d => d.Value.Snapshot());
        return copy;
    }
}

public enum DeviceKind
{
    /// <summary>A client device that signs.</summary>
    Device = 1,

    /// <summary>A passphrase-wrapped backup: never signs, can only be restored (and is consumed by that).</summary>
    Backup = 2,
}

/// <summary>The server's half of one device's share pair, sealed, and what is public about it.</summary>
[GenerateSerializer, Alias("mpc.StoredDevice")]
public sealed class StoredDevice
{
    [Id(0)]
    public string DeviceId { get; set; } = "";

    [Id(1)]
    public DeviceKind Kind { get; set; } = DeviceKind.Device;

    [Id(2)]
    public string Label { get; set; } = "";

    /// <summary>x1, the Paillier primes and c_key of this pair, sealed; empty once revoked.</summary>
    [Id(3)]
    public byte[] SealedShare { get; set; } = [];

    /// <summary>The seal's purpose (associated data), fixed when sealed.</summary>
    [Id(4)]
    public string SealPurpose { get; set; } = "";

    /// <summary>The pair's public share id; empty for pairs sealed before share ids existed.</summary>
    [Id(5)]
    public byte[] ShareId { get; set; } = [];

    [Id(6)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(7)]
    public DateTimeOffset? RefreshedAt { get; set; }

    [Id(8)]
    public DateTimeOffset? RevokedAt { get; set; }

    [Id(9)]
    public string? RevokedReason { get; set; }

    /// <summary>Set when an operator unfreezes the key: this pair must be refreshed before it signs.</summary>
    [Id(10)]
    public bool MustRefresh { get; set; }

    /// <summary>Share ids this device held before its refreshes (latest last), to tell a stale share from a foreign one.</summary>
    [Id(11)]
    public List<byte[]> ReplacedShareIds { get; set; } = [];

    public bool Revoked => RevokedAt is not null;

    public StoredDevice Snapshot()
    {
        var copy = (StoredDevice)MemberwiseClone();
        copy.ReplacedShareIds = [.. ReplacedShareIds];
        return copy;
    }
}

[GenerateSerializer, Alias("mpc.KeyOwnerState")]
public sealed class KeyOwnerState
{
    [Id(0)]
    public string? Owner { get; set; }
}
