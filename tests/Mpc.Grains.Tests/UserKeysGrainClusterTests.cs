using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Grains.Sealing;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Mpc.Protocol.Signing;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace Mpc.Grains.Tests;

/// <summary>
/// One silo of Orleans' <see cref="InProcessTestCluster"/> (silo and client in this process, in-memory membership, ports
/// the test host allocates) with the user grain, in-memory storage that fails on demand, and a recording audit trail.
/// </summary>
public class GrainClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The cluster's client: grain references as the gRPC service gets them.</summary>
    public IGrainFactory GrainFactory => Cluster.Client;

    public RingPedersenSecret RingPedersen { get; } = RingPedersenSecret.Generate(BigNumBackends.Default);

    internal FlakyGrainStorage Storage => Silo.GetRequiredService<FlakyGrainStorage>();

    internal RecordingAudit Audit => Silo.GetRequiredService<RecordingAudit>();

    internal ShareSealer Sealer => Silo.GetRequiredService<ShareSealer>();

    private IServiceProvider Silo => Cluster.Silos[0].ServiceProvider;

    /// <summary>The grain's clock: the system's, unless a fixture moves its own.</summary>
    protected virtual TimeProvider Time => TimeProvider.System;

    /// <summary>The grain's policy: the defaults, unless a fixture tightens a limit.</summary>
    protected virtual SignerOptions Signer => new();

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => ConfigureSilo(silo));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        RingPedersen.Dispose();
    }

    private void ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.AddMetrics();
        silo.Services.AddSingleton(Time);
        silo.Services.AddSingleton<Telemetry.SignerMetrics>();
        silo.Services.AddSingleton(BigNumBackends.Default);
        silo.Services.AddSingleton(Options.Create(Signer));
        silo.Services.AddSingleton<RecordingAudit>();
        silo.Services.AddSingleton<IKeyAuditTrail>(sp => sp.GetRequiredService<RecordingAudit>());
        silo.Services.AddSingleton<IKeyEncryptionKeyProvider, InMemoryKeyEncryptionKey>();
        silo.Services.AddSingleton(sp => new ShareSealer(sp.GetRequiredService<IKeyEncryptionKeyProvider>()));
        silo.Services.AddSingleton(sp => new FlakyGrainStorage(sp.GetRequiredService<Serializer>()));
        silo.Services.AddGrainStorage(StorageNames.Keys, (sp, _) => sp.GetRequiredService<FlakyGrainStorage>());
    }
}

/// <summary>The user grain through its interface: the router (a whole signature), its key record's roll-back, its session cap, and a freeze.</summary>
public sealed class UserKeysGrainClusterTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    [Fact]
    public async Task A_key_whose_store_fails_is_not_kept_and_a_second_key_generation_stores_it()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("rollback-user");
        fixture.Storage.FailingStates["keys"] = true;
        try
        {
            SignerException e = await Assert.ThrowsAsync<SignerException>(() => CreateKey(grain, "key-rollback-1"));
            Assert.Equal(SignerErrorKind.Internal, e.Kind);
            Assert.Equal("The key could not be stored; nothing was kept. Try again.", e.Message);
        }
        finally
        {
            fixture.Storage.FailingStates.TryRemove("keys", out _);
        }
        Assert.Empty(await grain.ListKeys());
        Assert.DoesNotContain(fixture.Audit.Events, e => e.KeyId == "key-rollback-1");

        KeySummary stored = await CreateKey(grain, "key-rollback-2");
        Assert.Equal(KeyStatus.Active, stored.Status);
        Assert.Equal(["key-rollback-2"], (await grain.ListKeys()).Select(k => k.KeyId));
    }

    [Fact]
    public async Task A_user_may_begin_eight_key_generations_and_the_ninth_is_ResourceExhausted()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("cap-user");
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] request = client.Start().Encode();
        for (int i = 0; i < KeyGenSessions.MaxPending; i++)
        {
            await grain.BeginKeyGen($"cap-{i}", request);
        }
        SignerException e = await Assert.ThrowsAsync<SignerException>(() => grain.BeginKeyGen("cap-8", request));
        Assert.Equal(SignerErrorKind.ResourceExhausted, e.Kind);
        // Another user's grain has its own cap.
        await fixture.GrainFactory.GetGrain<IUserKeysGrain>("cap-user-2").BeginKeyGen("cap-other", request);
    }

    [Fact]
    public async Task A_key_frozen_in_its_status_record_refuses_signing_and_an_unfreeze_that_cannot_be_stored_leaves_it_frozen()
    {
        const string user = "freeze-user";
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>(user);
        await CreateKey(grain, "key-freeze");
        var primary = new DeviceShare("", []);
        Assert.NotEmpty(await grain.BeginSign("key-freeze", primary));

        // Frozen by another activation (its status record in storage), then this activation is collected and comes back.
        fixture.Storage.Edit<KeyStatusState>("status", grain.GetGrainId(), status => status.Keys["key-freeze"] = new KeyStatusEntry
        {
            Status = KeyStatus.Frozen, FrozenAt = DateTimeOffset.UtcNow, FrozenReason = "final signature check failed", FrozenDevice = "primary",
        });
        await fixture.GrainFactory.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        SignerException refused = await Assert.ThrowsAsync<SignerException>(() => grain.BeginSign("key-freeze", primary));
        Assert.Equal(SignerErrorKind.FailedPrecondition, refused.Kind);
        Assert.Contains("is frozen", refused.Message, StringComparison.Ordinal);
        Assert.Equal(KeyStatus.Frozen, (await grain.GetKey("key-freeze"))!.Status);

        fixture.Storage.FailingStates["keys"] = true;
        try
        {
            SignerException notStored = await Assert.ThrowsAsync<SignerException>(() => grain.Unfreeze("key-freeze", null, "operator"));
            Assert.Equal("The unfreeze could not be stored; the key stays frozen.", notStored.Message);
        }
        finally
        {
            fixture.Storage.FailingStates.TryRemove("keys", out _);
        }
        Assert.Equal(KeyStatus.Frozen, (await grain.GetKey("key-freeze"))!.Status);
        Assert.All(await grain.ListDevices("key-freeze"), d => Assert.False(d.MustRefresh));

        KeySummary unfrozen = await grain.Unfreeze("key-freeze", null, "operator");
        Assert.Equal(KeyStatus.Active, unfrozen.Status);
        SignerException mustRefresh = await Assert.ThrowsAsync<SignerException>(() => grain.BeginSign("key-freeze", primary));
        Assert.Contains("must be refreshed", mustRefresh.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signature_takes_one_grain_call_per_round_trip_and_verifies_outside_the_engine()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("router-user");
        (KeySummary key, ClientKeyShare share) = await CreateKeyWithShare(grain, "key-router");
        using (share)
        {
            var device = new DeviceShare(share.DeviceId, share.ShareId);
            byte[] digest = System.Security.Cryptography.SHA256.HashData("routed"u8);
            var client = new SignClientSession(share, Digest.Parse(digest));

            // BeginSign hands out the commitment the SDK keeps ready; the signature itself is the two calls after it.
            SignCommitment commitment = SignCommitment.Decode(await grain.BeginSign(key.KeyId, device));
            SignNonce nonce = client.HandleCommitment(commitment);
            SignOpening opening = SignOpening.Decode(await grain.SignNonce(key.KeyId, device, nonce.Encode()), key.Curve);
            SignCiphertext ciphertext = client.HandleOpening(opening);
            SignCompletion completion = await grain.SignFinish(key.KeyId, commitment.ServerSessionId, ciphertext.Encode(), wantNextCommitment: true);
            EcdsaSignature signature = client.HandleResult(SignResult.Decode(completion.Result, key.Curve));

            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(key.Curve, key.PublicKey, digest, signature));
            Assert.NotNull(completion.NextCommitment);
            Assert.Contains(fixture.Audit.Events, e => e.KeyId == key.KeyId && e.Kind == AuditEventKind.Sign);

            // The session is spent: the same ciphertext again is NotFound, and the key stays active.
            SignerException replay = await Assert.ThrowsAsync<SignerException>(
                () => grain.SignFinish(key.KeyId, commitment.ServerSessionId, ciphertext.Encode(), wantNextCommitment: false));
            Assert.Equal(SignerErrorKind.NotFound, replay.Kind);
            Assert.Equal(KeyStatus.Active, (await grain.GetKey(key.KeyId))!.Status);
        }
    }

    [Fact]
    public async Task A_user_at_the_device_cap_is_refused_at_BeginKeyGen_and_BeginImport_and_no_key_id_is_claimed()
    {
        // 64 live pairs over fewer than 32 keys: the key count alone lets a key generation begin, and its store (after
        // a second of Paillier work on each side) would be refused.
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("device-cap-user");
        fixture.Storage.Edit<UserKeysState>("keys", grain.GetGrainId(), state => SeedKeys(state, [16, 16, 16, 16]));
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);

        SignerException keyGen = await Assert.ThrowsAsync<SignerException>(() => grain.BeginKeyGen("device-cap-keygen", client.Start().Encode()));
        SignerException import = await Assert.ThrowsAsync<SignerException>(() => grain.BeginImport("device-cap-import", ImportOf(out _)));

        foreach (SignerException e in new[] { keyGen, import })
        {
            Assert.Equal(SignerErrorKind.ResourceExhausted, e.Kind);
            Assert.Equal("This user's keys have 64 devices and backups in all; at most 64 are allowed. Revoke some first.", e.Message);
        }
        Assert.Null(await fixture.GrainFactory.GetGrain<IKeyOwnerGrain>("device-cap-keygen").GetOwner());
        Assert.Null(await fixture.GrainFactory.GetGrain<IKeyOwnerGrain>("device-cap-import").GetOwner());
        Assert.Equal(4, (await grain.ListKeys()).Count);
    }

    [Fact]
    public async Task A_key_id_with_a_key_generation_in_progress_begins_no_import_and_the_reverse_so_neither_replaces_the_other()
    {
        // Without the cross checks, an import finished under the id of a key generation in progress was then replaced
        // by the key generation's store (the imported key's server share gone, and with it every device's share).
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("same-id-user");
        using var keyGen = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] commitment = await grain.BeginKeyGen("same-id-1", keyGen.Start().Encode());
        SignerException import = await Assert.ThrowsAsync<SignerException>(() => grain.BeginImport("same-id-1", ImportOf(out _)));

        await grain.BeginImport("same-id-2", ImportOf(out _));
        using var second = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        SignerException keyGenAfterImport = await Assert.ThrowsAsync<SignerException>(() => grain.BeginKeyGen("same-id-2", second.Start().Encode()));

        foreach (SignerException e in new[] { import, keyGenAfterImport })
        {
            Assert.Equal(SignerErrorKind.FailedPrecondition, e.Kind);
            Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        }
        // The first of each pair goes on: the key generation stores its key, the only one under its id.
        KeyGenCompletion stored = await grain.CompleteKeyGen("same-id-1", keyGen.HandleCommitment(KeyGenCommitment.Decode(commitment)).Encode());
        Assert.Equal("same-id-1", stored.Key.KeyId);
        Assert.Equal(["same-id-1"], (await grain.ListKeys()).Select(k => k.KeyId));
    }

    [Fact]
    public async Task A_store_refused_by_a_cap_reached_since_the_first_round_claims_no_key_id()
    {
        // 63 live pairs: two key generations begin, the first one's key takes the 64th place, and the second is refused
        // before its id is claimed (a claim is durable: one per refused attempt would pile up in storage).
        const string user = "device-race-user";
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>(user);
        fixture.Storage.Edit<UserKeysState>("keys", grain.GetGrainId(), state => SeedKeys(state, [15, 16, 16, 16]));
        using var first = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        using var second = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] firstCommitment = await grain.BeginKeyGen("device-race-1", first.Start().Encode());
        byte[] secondCommitment = await grain.BeginKeyGen("device-race-2", second.Start().Encode());

        KeyGenCompletion stored = await grain.CompleteKeyGen("device-race-1", first.HandleCommitment(KeyGenCommitment.Decode(firstCommitment)).Encode());
        SignerException refused = await Assert.ThrowsAsync<SignerException>(
            () => grain.CompleteKeyGen("device-race-2", second.HandleCommitment(KeyGenCommitment.Decode(secondCommitment)).Encode()));

        Assert.Equal("device-race-1", stored.Key.KeyId);
        Assert.Equal(user, await fixture.GrainFactory.GetGrain<IKeyOwnerGrain>("device-race-1").GetOwner());
        Assert.Equal(SignerErrorKind.ResourceExhausted, refused.Kind);
        Assert.Contains("64 devices and backups", refused.Message, StringComparison.Ordinal);
        Assert.Null(await fixture.GrainFactory.GetGrain<IKeyOwnerGrain>("device-race-2").GetOwner());
        Assert.Null(await grain.GetKey("device-race-2"));
    }

    [Fact]
    public async Task An_import_whose_chain_passes_the_users_chain_cap_is_refused_at_BeginImport()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("chain-cap-user");
        fixture.Storage.Edit<UserKeysState>("keys", grain.GetGrainId(), state =>
        {
            SeedKeys(state, [1, 1]);
            foreach (StoredKey key in state.Keys.Values)
            {
                key.CertificateChain = [new byte[UserStateLimits.MaxChainBytesPerKey]];
            }
        });

        ImportStart start = ImportOf(out int chainBytes);

        SignerException e = await Assert.ThrowsAsync<SignerException>(() => grain.BeginImport("chain-cap-import", start));

        Assert.Equal(SignerErrorKind.ResourceExhausted, e.Kind);
        Assert.Equal(
            $"This user's certificate chains would take {UserStateLimits.MaxChainBytesPerUser + chainBytes} bytes; at most {UserStateLimits.MaxChainBytesPerUser} are allowed over all keys (the other keys' chains take {UserStateLimits.MaxChainBytesPerUser}).",
            e.Message);
        Assert.Null(await fixture.GrainFactory.GetGrain<IKeyOwnerGrain>("chain-cap-import").GetOwner());
    }

    [Fact]
    public async Task A_backup_restores_onto_a_key_at_sixteen_live_pairs_since_the_restore_retires_it()
    {
        // The completion allows a restore one pair of slack (the backup it consumes is retired in the same write), so
        // the first round must not refuse what the completion would store.
        const string user = "restore-at-cap-user";
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>(user);
        (KeySummary key, ClientKeyShare primary) = await CreateKeyWithShare(grain, "restore-at-cap");
        using ClientKeyShare primaryShare = primary;
        using ClientKeyShare backup = await Refresh(grain, primaryShare, RefreshPurpose.Backup, "backup");
        // Fourteen more live pairs, as other devices' enrolments would have left them: sixteen with the primary and the backup.
        fixture.Storage.Edit<UserKeysState>("keys", grain.GetGrainId(), state =>
        {
            for (int d = 0; d < UserStateLimits.MaxDevicesPerKey - 2; d++)
            {
                state.Keys[key.KeyId].Devices[$"device-{d}"] = new StoredDevice { DeviceId = $"device-{d}", SealedShare = [1], ShareId = [(byte)d], CreatedAt = DateTimeOffset.UtcNow };
            }
        });
        await fixture.GrainFactory.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(UserStateLimits.MaxDevicesPerKey, (await grain.ListDevices(key.KeyId)).Count(d => d.RevokedAt is null));

        using ClientKeyShare restored = await Refresh(grain, backup, RefreshPurpose.Restore, "new phone");

        IReadOnlyList<DeviceSummary> devices = await grain.ListDevices(key.KeyId);
        Assert.Equal(UserStateLimits.MaxDevicesPerKey, devices.Count(d => d.RevokedAt is null));
        Assert.NotNull(devices.Single(d => d.DeviceId == backup.DeviceId).RevokedAt);
        Assert.Null(devices.Single(d => d.DeviceId == restored.DeviceId).RevokedAt);
        // An enrolment at the cap still has no place: only a restore frees one.
        using var enrol = RefreshClientSession.FromShare(restored, RefreshPurpose.Enrol, fixture.RingPedersen, BigNumBackends.Default);
        SignerException full = await Assert.ThrowsAsync<SignerException>(() => grain.BeginRefresh(key.KeyId,
            new RefreshStart(new DeviceShare(restored.DeviceId, restored.ShareId), RefreshPurpose.Enrol, "tablet", enrol.Start().Encode())));
        Assert.Equal(SignerErrorKind.ResourceExhausted, full.Kind);
    }

    /// <summary>Refresh rounds 1-5 through the grain from <paramref name="source"/>: the new pair's client share.</summary>
    private async Task<ClientKeyShare> Refresh(IUserKeysGrain grain, ClientKeyShare source, RefreshPurpose purpose, string label)
    {
        using var session = RefreshClientSession.FromShare(source, purpose, fixture.RingPedersen, BigNumBackends.Default);
        RefreshStarted started = await grain.BeginRefresh(source.KeyId, new RefreshStart(new DeviceShare(source.DeviceId, source.ShareId), purpose, label, session.Start().Encode()));
        byte[] serverShare = await grain.ContinueRefresh(source.KeyId, started.RefreshId, session.HandleCommitment(RefreshCommitment.Decode(started.Commitment)).Encode());
        RefreshClientOutput output = session.HandleServerShare(RefreshServerShare.Decode(serverShare, source.Curve));
        await grain.CompleteRefresh(source.KeyId, started.RefreshId, output.Confirmation.Encode());
        return output.Share;
    }

    /// <summary>Keys with the given numbers of live pairs, as storage would hold them (the shares are never opened).</summary>
    private static void SeedKeys(UserKeysState state, int[] devicesPerKey)
    {
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        for (int k = 0; k < devicesPerKey.Length; k++)
        {
            var key = new StoredKey { KeyId = $"seeded-{k}", Curve = (int)CurveKind.P256, PublicKey = curve.EncodePoint(curve.G), CreatedAt = DateTimeOffset.UtcNow };
            for (int d = 0; d < devicesPerKey[k]; d++)
            {
                key.Devices[$"device-{d}"] = new StoredDevice { DeviceId = $"device-{d}", SealedShare = [1], ShareId = [(byte)d], CreatedAt = DateTimeOffset.UtcNow };
            }
            state.Keys[key.KeyId] = key;
        }
    }

    /// <summary>An import's first round for a fresh P-256 key, with the key's own self-signed certificate as its chain.</summary>
    private ImportStart ImportOf(out int chainBytes)
    {
        using var whole = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var d = new Org.BouncyCastle.Math.BigInteger(1, whole.ExportParameters(true).D);
        using RefreshClientSession session = RefreshClientSession.ForImport(CurveKind.P256, d, fixture.RingPedersen, BigNumBackends.Default, out byte[] seed, out byte[] publicKey);
        using X509Certificate2 certificate = new CertificateRequest("CN=Imported", whole, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        chainBytes = certificate.RawData.Length;
        return new ImportStart(CurveKind.P256, publicKey, seed, [certificate.RawData], "imported", session.Start().Encode());
    }

    /// <summary>Key generation rounds 1-4 through the grain (the client's side in process).</summary>
    [Fact]
    public async Task A_certificate_subject_with_control_and_bidi_characters_is_audited_without_them()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("certificate-subject-user");
        KeySummary key = await CreateKey(grain, "key-certificate-subject");
        // A one-certificate chain needs only the key's own public key in its leaf; an unrelated key signs it.
        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName("Alice\r\u001b[1A\u001b[2KMallory\u202Egnp.exe\u2066x\u0085\u200Fy\u061C");
        using var issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(name.Build(), PublicKey.CreateFromSubjectPublicKeyInfo(key.PublicKey, out _), HashAlgorithmName.SHA256);
        using X509Certificate2 leaf = request.Create(new X500DistinguishedName("CN=Issuer"), X509SignatureGenerator.CreateForECDsa(issuer),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(16));
        Assert.Contains('\u001b', leaf.Subject);

        await grain.SetCertificateChain(key.KeyId, [leaf.RawData]);

        string detail = Assert.Single(fixture.Audit.Events, e => e.KeyId == key.KeyId && e.Kind == AuditEventKind.Certificate).Detail;
        Assert.DoesNotContain(detail, c => char.IsControl(c) || c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069'));
        Assert.Contains("Alice??[1A?[2KMallory?gnp.exe?x??y?", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stored_share_that_unseals_but_does_not_import_is_Internal_without_its_reason_and_stays_stored()
    {
        const string user = "damaged-share-user";
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>(user);
        KeySummary key = await CreateKey(grain, "key-damaged-share");
        // Sealed correctly under the configured key-encryption key, but not a server key share: the server's own data is
        // damaged, which no request of the client's can cause or mend.
        string purpose = "";
        fixture.Storage.Edit<UserKeysState>("keys", grain.GetGrainId(), state => purpose = Assert.Single(state.Keys[key.KeyId].Devices.Values).SealPurpose);
        byte[] damaged = await fixture.Sealer.SealAsync(new byte[] { 0, 0, 0, 99, 1, 2, 3 }, new SealContext(user, key.KeyId, purpose), CancellationToken.None);
        fixture.Storage.Edit<UserKeysState>("keys", grain.GetGrainId(), state => state.Keys[key.KeyId].Devices.Values.Single().SealedShare = damaged);
        await fixture.GrainFactory.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        SignerException e = await Assert.ThrowsAsync<SignerException>(() => grain.BeginSign(key.KeyId, new DeviceShare("", [])));
        Assert.Equal(SignerErrorKind.Internal, e.Kind);
        Assert.Equal($"The stored share of key '{key.KeyId}' cannot be used (the server's log says why); nothing was changed.", e.Message);
        // Nothing stored was touched: the damaged share is still there for the operator to restore or inspect.
        Assert.Single(await grain.ListDevices(key.KeyId));
        fixture.Storage.Edit<UserKeysState>("keys", grain.GetGrainId(), state => Assert.Equal(damaged, state.Keys[key.KeyId].Devices.Values.Single().SealedShare));
    }

    /// <summary>Labels that would print as something else: a control character, a bidi mark, embedding, override or isolate, or a character that does not show (format, separators).</summary>
    private static readonly string[] HiddenLabels =
        ["phone\u202Egnp.exe", "\u2066laptop\u2069", "work\u200Fphone", "work\u200Ephone", "a\u061Cb", "x\u202Ay", "tab\there", "bell\u0007", "nl\u0085", "pho\u200Bne", "\uFEFFwork", "tag\U000E0041", "para\u2029graph"];

    [Fact]
    public async Task A_device_label_with_a_control_or_bidi_character_is_InvalidArgument_at_the_first_round_and_nothing_is_stored()
    {
        const string user = "hidden-label-user";
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>(user);
        (KeySummary key, ClientKeyShare primary) = await CreateKeyWithShare(grain, "hidden-label");
        using ClientKeyShare primaryShare = primary;

        foreach (string label in HiddenLabels)
        {
            foreach (RefreshPurpose purpose in new[] { RefreshPurpose.Enrol, RefreshPurpose.Backup })
            {
                using var session = RefreshClientSession.FromShare(primaryShare, purpose, fixture.RingPedersen, BigNumBackends.Default);
                SignerException refused = await Assert.ThrowsAsync<SignerException>(() => grain.BeginRefresh(key.KeyId,
                    new RefreshStart(new DeviceShare(primaryShare.DeviceId, primaryShare.ShareId), purpose, label, session.Start().Encode())));
                Assert.Equal(SignerErrorKind.InvalidArgument, refused.Kind);
                Assert.Equal(Mpc.Protocol.DeviceLabels.Invalid, refused.Message);
            }
            SignerException import = await Assert.ThrowsAsync<SignerException>(() => grain.BeginImport("hidden-label-import", ImportOf(out _) with { Label = label }));
            Assert.Equal(SignerErrorKind.InvalidArgument, import.Kind);
            Assert.Equal(Mpc.Protocol.DeviceLabels.Invalid, import.Message);
        }

        Assert.Single(await grain.ListDevices(key.KeyId));
        Assert.Null(await fixture.GrainFactory.GetGrain<IKeyOwnerGrain>("hidden-label-import").GetOwner());
        // Plain Unicode is a label like any other.
        using ClientKeyShare backup = await Refresh(grain, primaryShare, RefreshPurpose.Backup, "Zoë's phone ✓");
        Assert.Equal("Zoë's phone ✓", (await grain.ListDevices(key.KeyId)).Single(d => d.DeviceId == backup.DeviceId).Label);
    }

    private async Task<KeySummary> CreateKey(IUserKeysGrain grain, string keyId)
    {
        (KeySummary key, ClientKeyShare share) = await CreateKeyWithShare(grain, keyId);
        share.Dispose();
        return key;
    }

    /// <summary>Key generation rounds 1-4 through the grain, keeping the client's share for signing.</summary>
    private async Task<(KeySummary Key, ClientKeyShare Share)> CreateKeyWithShare(IUserKeysGrain grain, string keyId)
    {
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] commitment = await grain.BeginKeyGen(keyId, client.Start().Encode());
        KeyGenClientShare share = client.HandleCommitment(KeyGenCommitment.Decode(commitment));
        KeyGenCompletion completion = await grain.CompleteKeyGen(keyId, share.Encode());
        ClientKeyShare clientShare = client.HandleServerShare(KeyGenServerShare.Decode(completion.ServerShare, CurveKind.P256));
        return (completion.Key, clientShare);
    }
}
