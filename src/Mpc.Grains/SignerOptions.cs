using Mpc.Grains.Abstractions;

namespace Mpc.Grains;

/// <summary>Server-side policy for keys and protocol sessions.</summary>
public sealed class SignerOptions
{
    /// <summary>Paillier modulus size for new keys: an even number of bits from 2048 (default) to 4096.</summary>
    public int PaillierModulusBits { get; set; } = 2048;

    /// <summary>How long a key generation may wait between its two calls.</summary>
    public TimeSpan KeyGenSessionLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long an unopened commitment (from BeginSign, or handed out for the next signature) stays usable.
    /// Sessions live only in grain memory; an expired one is simply forgotten.
    /// </summary>
    public TimeSpan SignSessionLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a session whose nonce round ran (k1 is in use) may take to finish before it is forgotten.</summary>
    public TimeSpan OpenedSignSessionLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Unopened commitments kept per device (plus one per signature of the device in progress, so concurrent signers
    /// rarely share one); beyond it BeginSign (and SignFinish's next commitment) hands out an
    /// existing one again, which is safe because its nonce has not been used (docs/protocol.md, "Signing sessions").
    /// </summary>
    public int MaxUnopenedCommitmentsPerDevice { get; set; } = 4;

    /// <summary>Opened, unfinished signing sessions allowed per key (each expires after <see cref="OpenedSignSessionLifetime"/>).</summary>
    public int MaxOpenSessionsPerKey { get; set; } = 64;

    /// <summary>
    /// Signatures one key may attempt in any <see cref="SignatureRateWindow"/> (0: no limit): each counts when its nonce
    /// round runs, released or not, so refused ones (each audited) are capped too. The default, 3000 a minute (50/s), is
    /// five times what one key signs in the load benchmark and the cluster test (about 10/s), and still caps what a
    /// stolen client share and token can sign. Counted in the key grain's memory only.
    /// </summary>
    public int MaxSignaturesPerKey { get; set; } = 3000;

    /// <summary>The sliding window of <see cref="MaxSignaturesPerKey"/>.</summary>
    public TimeSpan SignatureRateWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Rounds that make a new Paillier key and its proofs (a key generation's completion, and the continue round of a
    /// refresh, enrolment, backup, restore or import) one user may run in any <see cref="PaillierKeyRateWindow"/>
    /// (0: no limit). Each costs the server a pooled or newly generated key and about 0.3 s of CPU (seconds when the
    /// pool is empty), and is counted when it runs, completed or not. The default, 20 per 10 minutes, is several times
    /// what a person does (a few keys, a refresh, a device or a backup at a time) and holds one user to about 1% of a
    /// core while the pool has keys. Counted in the user grain's memory only.
    /// </summary>
    public int MaxPaillierKeysPerUser { get; set; } = 20;

    /// <summary>The sliding window of <see cref="MaxPaillierKeysPerUser"/>.</summary>
    public TimeSpan PaillierKeyRateWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Certificate chains one user may set (<c>SetCertificateChain</c>) in any <see cref="CertificateChainRateWindow"/>
    /// (0: no limit). Each rewrites the user's key record (up to about 440 KiB, docs/service.md "Limits") and adds an
    /// audit entry. The default, 64 an hour, lets a user set a chain on each of their 32 keys twice in a row and is far
    /// above renewals. Counted in the user grain's memory only.
    /// </summary>
    public int MaxCertificateChainsPerUser { get; set; } = 64;

    /// <summary>The sliding window of <see cref="MaxCertificateChainsPerUser"/>.</summary>
    public TimeSpan CertificateChainRateWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a user's grain stays idle before it clears the final-check markers of verified signatures
    /// (docs/service.md, "Fail-closed final check"). Under load the next signature's marker write clears the last
    /// one, so signing costs one small write; a silo killed within this time after a signature leaves a marker
    /// behind, which the next activation re-runs (the same c3 decrypted again) and clears.
    /// </summary>
    public TimeSpan FinalCheckMarkerClearDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a key's audit grain persists queued events (also on every read and on deactivation).</summary>
    public TimeSpan AuditFlushInterval { get; set; } = TimeSpan.FromSeconds(1);
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
    public const string KeyAudit = "mpc-keyaudit";

    /// <summary>Never activated: names the storage records of sealed audit segments ("{keyId}/{n}").</summary>
    public const string KeyAuditSegment = "mpc-keyauditseg";
}
