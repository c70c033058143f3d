using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Storage;
using Mpc.Grains.Telemetry;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Mpc.Transport.V1;
using Orleans;
using Orleans.Runtime;
using KeyStatus = Mpc.Grains.Abstractions.KeyStatus;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// Issue 10, "a freeze that cannot be lost": a failed final check keeps its key from being decrypted for again by
/// any activation, whatever fails around it. Every test ends the same way: an honest signature and a probe are both
/// refused as frozen, and the server's count of c3 decryptions (mpc.sign.final_checks) has not moved.
/// </summary>
public sealed class FreezeDurabilityTests : IAsyncLifetime, IDisposable
{
    private readonly FaultInjectingGrainStorage _storage;
    private readonly ServerFixture _server;
    private readonly FinalCheckCounter _decryptions;
    private readonly FinalCheckCounter _reruns;
    private readonly FinalCheckCounter _rerunsNotRun;

    public FreezeDurabilityTests()
    {
        (_server, _storage) = ServerFixture.WithWrappedKeyStorage("mpc-freeze-", inner => new FaultInjectingGrainStorage(inner));
        _decryptions = new FinalCheckCounter(_server, "mpc.sign.final_checks");
        _reruns = new FinalCheckCounter(_server, "mpc.sign.final_check_reruns");
        _rerunsNotRun = new FinalCheckCounter(_server, "mpc.sign.final_check_reruns", outcome: "not_run");
    }

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _decryptions.Dispose();
        _reruns.Dispose();
        _rerunsNotRun.Dispose();
    }

    [Fact]
    public async Task A_freeze_whose_write_fails_is_kept_by_the_stored_marker_across_a_restart_until_an_operator_unfreeze_and_refresh()
    {
        const string user = "freeze-write-fails";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        _storage.FailWritesWhen(AnyFrozen);

        Assert.Equal(StatusCode.FailedPrecondition, await FailFinalCheckAsync(user, key));
        Assert.True(_storage.FailedWrites > 0, "the freeze write was never attempted");
        KeyStatusEntry stored = (await ReadStatusAsync(user)).Keys[key.KeyId];
        Assert.Equal(KeyStatus.Active, stored.Status);
        Assert.NotNull(stored.PendingCheck);

        await AssertNoFurtherDecryption(user, key);
        await _server.RestartAsync();
        await AssertNoFurtherDecryption(user, key);

        // The operator's unfreeze lifts the marker too, and every device must refresh before it signs again.
        _storage.FailWritesWhen(null);
        using MpcSignerClient again = _server.Client(user);
        using var admin = new MpcSignerClient(_server.Address, _server.AdminToken());
        Assert.False((await admin.UnfreezeKeyAsync(user, key.KeyId)).Frozen);
        Assert.Null((await ReadStatusAsync(user)).Keys[key.KeyId].PendingCheck);
        Assert.Contains("refresh", (await Refused(() => again.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)))).Message);
        using MpcKey refreshed = await again.RefreshKeyAsync(key);
        await again.SignDigestAsync(refreshed, RandomNumberGenerator.GetBytes(32));
    }

    [Fact]
    public async Task The_padded_state_attack_is_capped_early_and_its_freeze_survives_a_restart()
    {
        const string user = "padded-state";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey first = await client.CreateKeyAsync(CurveKind.P256);
        using MpcKey second = await client.CreateKeyAsync(CurveKind.P256);
        using MpcKey third = await client.CreateKeyAsync(CurveKind.P256);

        // The review's padding: one-certificate chains with an unknown 60 KiB extension. Two fit the per-user cap,
        // the third is refused up front; a single chain past the per-key cap is refused too.
        await client.SetCertificateChainAsync(first.KeyId, [PaddedCertificate(first, 60 * 1024)]);
        await client.SetCertificateChainAsync(second.KeyId, [PaddedCertificate(second, 60 * 1024)]);
        MpcSignerException perUser = await Refused(() => client.SetCertificateChainAsync(third.KeyId, [PaddedCertificate(third, 60 * 1024)]));
        Assert.Equal(StatusCode.ResourceExhausted, perUser.Status);
        Assert.Contains("certificate chains", perUser.Message, StringComparison.Ordinal);
        MpcSignerException perKey = await Refused(() => client.SetCertificateChainAsync(third.KeyId, [PaddedCertificate(third, 70 * 1024)]));
        Assert.Equal(StatusCode.InvalidArgument, perKey.Status);
        long stateBytes = new FileInfo(StoredKeys.FileOf(_server.DataDirectory, user)).Length;
        Assert.InRange(stateBytes, 120 * 1024, 256 * 1024);

        // The probe: its freeze lands in the small status record, whatever the size of the user's blob.
        Assert.Equal(StatusCode.FailedPrecondition, await FailFinalCheckAsync(user, first));
        Assert.Equal(KeyStatus.Frozen, (await ReadStatusAsync(user)).Keys[first.KeyId].Status);
        await AssertNoFurtherDecryption(user, first);
        await _server.RestartAsync();
        await AssertNoFurtherDecryption(user, first);
        // The user's other keys are not affected.
        using MpcSignerClient again = _server.Client(user);
        await again.SignDigestAsync(second, RandomNumberGenerator.GetBytes(32));
    }

    [Fact]
    public async Task A_check_cut_short_by_an_unexpected_failure_is_re_run_at_the_next_signature_not_at_the_next_activation()
    {
        const string user = "check-cut-short";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await InterruptFinalCheckAsync(user, client, key);

        // The next signature re-runs that check from its marker first (same c3: nothing new is learnt), it passes, the
        // marker is cleared and the signature goes ahead, in the same activation.
        long reruns = _reruns.Count;
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        MpcSignature signature = await client.SignDigestAsync(key, digest);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, signature));
        Assert.Equal(reruns + 1, _reruns.Count);
        Assert.False((await client.GetKeyAsync(key.KeyId)).Frozen);
    }

    [Fact]
    public async Task A_rerun_that_storage_cuts_short_is_tried_again_at_the_next_signature_and_the_key_signs()
    {
        const string user = "rerun-storage-blip";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await InterruptFinalCheckAsync(user, client, key);

        // The next signature's re-run cannot read the status record (a storage blip): it decrypts nothing, the marker
        // stays, and the key is refused as frozen.
        _storage.FailNextReads("status", 1);
        long decryptions = _decryptions.Count, reruns = _reruns.Count, notRun = _rerunsNotRun.Count;
        MpcSignerException refused = await Refused(() => client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCode.FailedPrecondition, refused.Status);
        Assert.Equal(notRun + 1, _rerunsNotRun.Count);
        Assert.Equal(decryptions, _decryptions.Count);

        // Storage answers again: the signature after it re-runs the check (it passes), clears the marker and goes ahead in
        // the same activation, instead of the key being refused until the grain is next activated.
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        MpcSignature signature = await client.SignDigestAsync(key, digest);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, signature));
        Assert.Equal(reruns + 2, _reruns.Count);
        Assert.Equal(notRun + 1, _rerunsNotRun.Count);
        Assert.False((await client.GetKeyAsync(key.KeyId)).Frozen);
    }

    /// <summary>
    /// A signature whose final check something other than the protocol cuts short between the stored marker and the
    /// verdict (a metric listener throwing, as one did in another test): the caller hears Internal, and the marker is
    /// left without an outcome in the activation that wrote it.
    /// </summary>
    private async Task InterruptFinalCheckAsync(string user, MpcSignerClient client, MpcKey key)
    {
        IMeterFactory factory = _server.MeterFactory!;
        int thrown = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SignerMetrics.MeterName && instrument.Name == "mpc.sign.final_checks" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) =>
        {
            if (Interlocked.Exchange(ref thrown, 1) == 0)
            {
                throw new InvalidOperationException("injected failure between the marker and the verdict");
            }
        });
        listener.Start();
        Assert.Equal(StatusCode.Internal, (await Refused(() => client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)))).Status);
        Assert.NotNull((await ReadStatusAsync(user)).Keys[key.KeyId].PendingCheck);
    }

    [Fact]
    public async Task A_freeze_whose_write_fails_holds_after_an_idle_deactivation()
    {
        const string user = "freeze-idle";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.Secp256k1);
        _storage.FailWritesWhen(AnyFrozen);
        Assert.Equal(StatusCode.FailedPrecondition, await FailFinalCheckAsync(user, key));

        int reads = _storage.ReadsOf("status");
        await _server.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await AssertNoFurtherDecryption(user, key);
        Assert.True(_storage.ReadsOf("status") > reads, "no new activation read the status record");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stale_activation_decrypts_nothing_once_storage_says_frozen_even_when_it_cannot_read_storage_again(bool rereadFails)
    {
        string user = rereadFails ? "conflict-then-blip" : "stale-activation";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        // Let the idle clear of the marker run, so the outside write below is the only writer.
        await FinalCheckMarkers.ClearedAsync(_server.DataDirectory, user, key.KeyId);

        // This activation's rounds run on what it read; then another activation (here: the test, as storage sees it)
        // freezes the key. The ETag-checked marker write fails and the record is read again: it says frozen, or (a
        // storage blip) it cannot be read, and then the marker, never stored, must not pass for an interrupted check.
        using RawSigner raw = _server.Raw(_server.Token(user));
        (byte[] sessionId, SignCiphertext honest) = await HonestCiphertextAsync(raw, key);
        await FreezeAsAnotherActivationAsync(user, key.KeyId);
        if (rereadFails)
        {
            _storage.FailNextReads("status", 1);
        }

        long decryptions = _decryptions.Count, reruns = _reruns.Count;
        StatusCode finish = await RawSigner.StatusOf(() => raw.SignFinishAsync(key.KeyId, sessionId, honest));
        Assert.Equal(rereadFails ? StatusCode.Internal : StatusCode.FailedPrecondition, finish);

        // The next signature of this (stale) activation re-runs nothing and decrypts nothing: storage says frozen.
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(() => client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)))).Status);
        Assert.Equal(reruns, _reruns.Count);
        Assert.Equal(decryptions, _decryptions.Count);
        await AssertNoFurtherDecryption(user, key);
    }

    [Fact]
    public async Task A_marker_rerun_waits_for_storage_and_decrypts_nothing_once_another_activation_froze_the_key()
    {
        const string user = "rerun-reads-storage";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        // A passing marker is stored; this activation reads it (and would re-run it)...
        await PlantMarkerAsync(user, key, passing: true);
        // ...but the re-run reads storage first, where another activation has frozen the key since: the activation reads
        // the marker, then (before its re-run) storage changes under it.
        long decryptions = _decryptions.Count, notRun = _rerunsNotRun.Count;
        _storage.BeforeNextRead("status", () => FreezeAsAnotherActivationAsync(user, key.KeyId), skip: 1);

        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(() => client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)))).Status);
        Assert.Equal(decryptions, _decryptions.Count);
        Assert.True(_rerunsNotRun.Count > notRun, "the re-run was not refused");
        await AssertNoFurtherDecryption(user, key);
    }

    /// <summary>Another activation (here: the test, as storage sees it) freezes the key in the stored status record.</summary>
    private async Task FreezeAsAnotherActivationAsync(string user, string keyId)
    {
        var grainId = GrainId.Create(GrainTypes.UserKeys, user);
        var other = new FileGrainStorage(StorageNames.Keys, _server.DataDirectory, StoredKeys.Serializer);
        var status = new GrainState<KeyStatusState>();
        await other.ReadStateAsync("status", grainId, status);
        if (!status.State!.Keys.TryGetValue(keyId, out KeyStatusEntry? entry))
        {
            status.State.Keys[keyId] = entry = new KeyStatusEntry();
        }
        entry.Status = KeyStatus.Frozen;
        entry.FrozenReason = "final signature check failed (another activation)";
        await other.WriteStateAsync("status", grainId, status);
    }

    /// <summary>
    /// The one place a test makes a key's final signature check fail. An abort-attack c3 is refused by its proof before
    /// anything is decrypted, so the honest way to reach a failed check is the one a crash leaves: a stored final-check
    /// marker whose c3 fails the check (β off by one), found by the next activation, which re-runs it and freezes the
    /// key. Returns the status of an honest signature asked for right after; exactly one re-run happened and no new
    /// c3 was decrypted.
    /// </summary>
    private async Task<StatusCode> FailFinalCheckAsync(string user, MpcKey key)
    {
        await PlantMarkerAsync(user, key, passing: false);
        long decryptions = _decryptions.Count, reruns = _reruns.Count;
        using MpcSignerClient client = _server.Client(user);
        StatusCode status = (await Refused(() => client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)))).Status!.Value;
        Assert.Equal(reruns + 1, _reruns.Count);
        Assert.Equal(decryptions, _decryptions.Count);
        return status;
    }

    /// <summary>
    /// Deactivates every idle grain (so the next call reads storage afresh), then stores a marker for the key; with
    /// <paramref name="authentic"/>, tagged as the server itself would have written it.
    /// </summary>
    private async Task<PendingFinalCheck> PlantMarkerAsync(string user, MpcKey key, bool passing, bool authentic = true, Action<PendingFinalCheck>? alter = null)
    {
        // Let the idle clear of earlier markers run, so the outside write below is the only writer.
        await FinalCheckMarkers.ClearedAsync(_server.DataDirectory, user, key.KeyId);
        await _server.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        PendingFinalCheck marker = FinalCheckMarkers.For(key, passing);
        if (authentic)
        {
            await FinalCheckMarkers.AuthenticateAsync(_server.DataDirectory, _server.MasterKeyDirectory, user, key.KeyId, marker);
        }
        alter?.Invoke(marker);
        await FinalCheckMarkers.PlantAsync(_server.DataDirectory, user, key.KeyId, marker);
        return marker;
    }

    [Fact]
    public async Task A_marker_whose_c3_passes_the_rerun_is_cleared_and_the_key_keeps_signing_without_an_operator()
    {
        const string user = "marker-recovered";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        PendingFinalCheck marker = await PlantMarkerAsync(user, key, passing: true);
        Assert.Equal(marker.CheckId, (await ReadStatusAsync(user)).Keys[key.KeyId].PendingCheck?.CheckId);

        long decryptions = _decryptions.Count, reruns = _reruns.Count;
        using MpcSignerClient again = _server.Client(user);
        Assert.False((await again.GetKeyAsync(key.KeyId)).Frozen);
        Assert.Equal(reruns + 1, _reruns.Count);
        Assert.Equal(decryptions, _decryptions.Count);
        KeyStatusEntry stored = (await ReadStatusAsync(user)).Keys[key.KeyId];
        Assert.Null(stored.PendingCheck);
        Assert.Equal(KeyStatus.Active, stored.Status);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, await again.SignDigestAsync(key, digest)));
    }

    [Fact]
    public async Task A_marker_whose_c3_fails_the_rerun_freezes_the_key_durably_on_the_next_activation()
    {
        const string user = "marker-fails";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.Secp256k1);
        using MpcKey other = await client.CreateKeyAsync(CurveKind.Secp256k1);
        Assert.Equal(StatusCode.FailedPrecondition, await FailFinalCheckAsync(user, key));
        KeyStatusEntry stored = (await ReadStatusAsync(user)).Keys[key.KeyId];
        Assert.Equal(KeyStatus.Frozen, stored.Status);
        Assert.Null(stored.PendingCheck);
        Assert.Contains("re-run", stored.FrozenReason, StringComparison.Ordinal);
        await AssertNoFurtherDecryption(user, key);
        await _server.RestartAsync();
        await AssertNoFurtherDecryption(user, key);
        // A frozen key is never re-checked again, and the user's other key signs.
        using MpcSignerClient again = _server.Client(user);
        await again.SignDigestAsync(other, RandomNumberGenerator.GetBytes(32));
    }

    [Fact]
    public async Task A_marker_that_cannot_be_rerun_keeps_the_key_frozen()
    {
        const string user = "marker-not-rerun";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey legacy = await client.CreateKeyAsync(CurveKind.P256);
        using MpcKey malformed = await client.CreateKeyAsync(CurveKind.P256);
        await PlantMarkerAsync(user, legacy, passing: true);
        // As old code wrote it: no c3, R2, r or digest.
        PendingFinalCheck old = FinalCheckMarkers.For(legacy, passing: true);
        await FinalCheckMarkers.PlantAsync(_server.DataDirectory, user, legacy.KeyId, new PendingFinalCheck { CheckId = old.CheckId, DeviceId = old.DeviceId, Since = old.Since });
        PendingFinalCheck broken = FinalCheckMarkers.For(malformed, passing: true);
        broken.R2 = [0x05, .. broken.R2![1..]];
        // Authentic, so the re-run gets as far as decoding R2 and refuses the record there.
        await FinalCheckMarkers.AuthenticateAsync(_server.DataDirectory, _server.MasterKeyDirectory, user, malformed.KeyId, broken);
        await FinalCheckMarkers.PlantAsync(_server.DataDirectory, user, malformed.KeyId, broken);

        await AssertNoFurtherDecryption(user, legacy);
        await AssertNoFurtherDecryption(user, malformed);
        KeyStatusState stored = await ReadStatusAsync(user);
        Assert.NotNull(stored.Keys[legacy.KeyId].PendingCheck);
        Assert.NotNull(stored.Keys[malformed.KeyId].PendingCheck);
        Assert.Equal(KeyStatus.Active, stored.Keys[malformed.KeyId].Status);
    }

    [Fact]
    public async Task An_unauthenticated_marker_planted_in_storage_is_never_decrypted()
    {
        // Storage write access and a device share, without the server's share: markers whose re-run would pass (untagged),
        // and a marker the server tagged whose c3 was then swapped for one that fails (the abort-oracle probe). None may be
        // re-run, since a re-run decrypts a c3 whose proof was never checked: each stays frozen, outcome not_run.
        const string user = "marker-planted";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey untagged = await client.CreateKeyAsync(CurveKind.P256);
        using MpcKey swapped = await client.CreateKeyAsync(CurveKind.Secp256k1);
        await PlantMarkerAsync(user, untagged, passing: true, authentic: false);
        byte[] failingC3 = FinalCheckMarkers.For(swapped, passing: false).C3!;
        await PlantMarkerAsync(user, swapped, passing: true, authentic: true, alter: marker => marker.C3 = failingC3);

        long notRun = _rerunsNotRun.Count, reruns = _reruns.Count;
        await AssertNoFurtherDecryption(user, untagged);
        await AssertNoFurtherDecryption(user, swapped);
        // Every re-run attempt (one per marker at activation at least) ended not_run: none passed or failed.
        Assert.True(_rerunsNotRun.Count - notRun >= 2);
        Assert.Equal(_reruns.Count - reruns, _rerunsNotRun.Count - notRun);
        KeyStatusState stored = await ReadStatusAsync(user);
        foreach (MpcKey key in new[] { untagged, swapped })
        {
            // Kept, not turned into a failed check's freeze: nothing was decided from it.
            Assert.NotNull(stored.Keys[key.KeyId].PendingCheck);
            Assert.Equal(KeyStatus.Active, stored.Keys[key.KeyId].Status);
        }
    }

    [Fact]
    public async Task A_refused_c3_proof_writes_nothing_and_decrypts_nothing()
    {
        const string user = "proof-refused";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        await FinalCheckMarkers.ClearedAsync(_server.DataDirectory, user, key.KeyId);
        using RawSigner raw = _server.Raw(_server.Token(user));
        int writes = _storage.WritesOf("status");
        long decryptions = _decryptions.Count;
        Assert.Equal(StatusCode.InvalidArgument, await AbortAttack.SendAsync(raw, key));
        Assert.Equal(writes, _storage.WritesOf("status"));
        Assert.Equal(decryptions, _decryptions.Count);
        Assert.Null((await ReadStatusAsync(user)).Keys[key.KeyId].PendingCheck);
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
    }

    /// <summary>An honest signature and an abort probe are both refused as frozen, and nothing is decrypted.</summary>
    private async Task AssertNoFurtherDecryption(string user, MpcKey key)
    {
        // A client of its own: a restarted server listens on a new port.
        using MpcSignerClient client = _server.Client(user);
        long before = _decryptions.Count;
        MpcSignerException honest = await Refused(() => client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCode.FailedPrecondition, honest.Status);
        Assert.Contains("frozen", honest.Message, StringComparison.Ordinal);
        using (RawSigner raw = _server.Raw(_server.Token(user)))
        {
            StatusCode probe;
            try
            {
                probe = await AbortAttack.SendAsync(raw, key);
            }
            catch (RpcException e)
            {
                probe = e.StatusCode;
            }
            Assert.Equal(StatusCode.FailedPrecondition, probe);
        }
        Assert.True((await client.GetKeyAsync(key.KeyId)).Frozen);
        Assert.Equal(before, _decryptions.Count);
    }

    private static bool AnyFrozen(string stateName, object? state) =>
        state is KeyStatusState status && status.Keys.Values.Any(e => e.Status == KeyStatus.Frozen);

    private Task<KeyStatusState> ReadStatusAsync(string user) => FinalCheckMarkers.ReadAsync(_server.DataDirectory, user);

    /// <summary>Honest rounds up to c3, not sent: the session id and the ciphertext.</summary>
    private static async Task<(byte[] SessionId, SignCiphertext Ciphertext)> HonestCiphertextAsync(RawSigner raw, MpcKey key)
    {
        ByteString shareId = ByteString.CopyFrom(key.Share.ShareId);
        SignCommitment commitment = SignCommitment.Decode((await raw.Client.BeginSignAsync(
            new BeginSignRequest { KeyId = key.KeyId, DeviceId = key.Share.DeviceId, ShareId = shareId }, raw.Headers)).Commitment.Span);
        var session = new SignClientSession(key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignNonceResponse opened = await raw.Client.SignNonceAsync(new SignNonceRequest
        {
            KeyId = key.KeyId,
            Nonce = ByteString.CopyFrom(session.HandleCommitment(commitment).Encode()),
            DeviceId = key.Share.DeviceId,
            ShareId = shareId,
        }, raw.Headers);
        return (commitment.ServerSessionId, session.HandleOpening(SignOpening.Decode(opened.Opening.Span, key.Curve)));
    }

    /// <summary>A one-certificate chain for the key, issued by a throw-away CA and padded with an unknown extension.</summary>
    private static X509Certificate2 PaddedCertificate(MpcKey key, int totalBytes)
    {
        using var issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=Padded"),
            PublicKey.CreateFromSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _), HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.55555.1", new byte[totalBytes - 400], critical: false));
        return request.Create(new X500DistinguishedName("CN=Padding CA"), X509SignatureGenerator.CreateForECDsa(issuer),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
    }

    private static async Task<MpcSignerException> Refused(Func<Task> call) => await Assert.ThrowsAsync<MpcSignerException>(call);
}
