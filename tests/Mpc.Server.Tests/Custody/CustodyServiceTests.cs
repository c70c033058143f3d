using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Grains;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Transport.V1;
using RefreshPurpose = Mpc.Transport.V1.RefreshPurpose;

namespace Mpc.Server.Tests.Custody;

/// <summary>Refresh, devices, backups, import and unfreeze through the real gRPC service.</summary>
[Collection("server")]
public sealed class CustodyServiceTests(ServerFixture server)
{
    private static async Task AssertSigns(MpcSignerClient client, MpcKey key, byte[] expectedSpki)
    {
        byte[] document = RandomNumberGenerator.GetBytes(200);
        MpcSignature signature = await client.SignDataAsync(key, document);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(key.Curve, expectedSpki, MpcSignerClient.HashFor(key.Curve, document), signature));
    }

    private static async Task<MpcSignerException> Refused(Func<Task> call) => await Assert.ThrowsAsync<MpcSignerException>(call);

    [Fact]
    public async Task After_refresh_the_old_share_is_refused_and_the_new_one_signs_under_the_same_key_across_a_restart()
    {
        using MpcSignerClient client = server.Client("refresher");
        using MpcKey original = await client.CreateKeyAsync(CurveKind.P256);
        byte[] spki = original.SubjectPublicKeyInfo;
        await AssertSigns(client, original, spki);
        using MpcKey stale = ShareCopies.Copy(client, original);

        ClientKeyShare? pending = null;
        using MpcKey refreshed = await client.RefreshKeyAsync(original, (share, _) =>
        {
            pending = share;
            return ValueTask.CompletedTask;
        });
        Assert.Same(refreshed.Share, pending);
        Assert.Equal(spki, refreshed.SubjectPublicKeyInfo);
        Assert.NotEqual(stale.Share.ShareId, refreshed.Share.ShareId);
        await AssertSigns(client, refreshed, spki);

        MpcSignerException refused = await Refused(() => client.SignDigestAsync(stale, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCode.FailedPrecondition, refused.Status);
        Assert.Contains("replaced by a refresh", refused.Message);
        // A stale share is refused before any signing round: the key is not frozen by it.
        Assert.False((await client.GetKeyAsync(original.KeyId)).Frozen);
        // A caller that does not name its share at all is refused too, once the device has been refreshed.
        using (RawSigner raw = server.Raw(server.Token("refresher")))
        {
            Assert.Equal(StatusCode.FailedPrecondition, await RawSigner.StatusOf(async () =>
                await raw.Client.BeginSignAsync(new BeginSignRequest { KeyId = original.KeyId }, raw.Headers)));
        }

        byte[] exported = refreshed.Share.ExportSecret();
        await server.RestartAsync();
        using MpcSignerClient again = server.Client("refresher");
        using MpcKey reopened = again.OpenKey(ClientKeyShare.ImportSecret(exported, BigNumBackends.Default));
        await AssertSigns(again, reopened, spki);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(() => again.SignDigestAsync(ShareCopies.Copy(again, stale), RandomNumberGenerator.GetBytes(32)))).Status);
        IReadOnlyList<MpcDeviceInfo> devices = await again.ListDevicesAsync(original.KeyId);
        MpcDeviceInfo primary = Assert.Single(devices);
        Assert.NotNull(primary.RefreshedAt);
        Assert.Equal(Convert.ToHexStringLower(refreshed.Share.ShareId), primary.ShareId);
    }

    [Fact]
    public async Task An_enrolled_device_signs_and_once_revoked_its_share_no_longer_does()
    {
        using MpcSignerClient phone = server.Client("two-devices");
        using MpcKey first = await phone.CreateKeyAsync(CurveKind.Secp256k1);
        byte[] spki = first.SubjectPublicKeyInfo;

        // The laptop gets the phone's share (over the handover channel in real use) and derives its own pair.
        using MpcSignerClient laptop = server.Client("two-devices");
        using MpcKey handedOver = ShareCopies.Copy(laptop, first);
        using MpcKey second = await laptop.EnrolDeviceAsync(handedOver.Share, "laptop");
        Assert.NotEqual(first.Share.DeviceId, second.Share.DeviceId);
        Assert.StartsWith("device-", second.Share.DeviceId);
        await AssertSigns(phone, first, spki);
        await AssertSigns(laptop, second, spki);

        IReadOnlyList<MpcDeviceInfo> devices = await phone.ListDevicesAsync(first.KeyId);
        Assert.Equal(2, devices.Count);
        Assert.Contains(devices, d => d.DeviceId == second.Share.DeviceId && d.Label == "laptop" && !d.Revoked);

        MpcDeviceInfo revoked = await phone.RevokeDeviceAsync(first.KeyId, second.Share.DeviceId);
        Assert.True(revoked.Revoked);
        MpcSignerException refused = await Refused(() => laptop.SignDigestAsync(second, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCode.FailedPrecondition, refused.Status);
        Assert.Contains("revoked", refused.Message);
        await AssertSigns(phone, first, spki);

        // The last device cannot be revoked: nothing could sign or restore afterwards.
        MpcSignerException last = await Refused(() => phone.RevokeDeviceAsync(first.KeyId, first.Share.DeviceId));
        Assert.Equal(StatusCode.FailedPrecondition, last.Status);
        await AssertSigns(phone, first, spki);
        Assert.Equal(StatusCode.NotFound, (await Refused(() => phone.RevokeDeviceAsync(first.KeyId, "device-nosuch"))).Status);
    }

    [Fact]
    public async Task A_signing_session_made_for_one_device_refuses_the_nonce_of_another_device_of_the_key()
    {
        // SignNonce no longer re-checks the device as BeginSign does: the session's binding to its device pair refuses a
        // live, signing second device of the same key that presents the first device's commitment.
        using MpcSignerClient phone = server.Client("session-binding");
        using MpcKey first = await phone.CreateKeyAsync(CurveKind.P256);
        using MpcSignerClient laptop = server.Client("session-binding");
        using MpcKey handedOver = ShareCopies.Copy(laptop, first);
        using MpcKey second = await laptop.EnrolDeviceAsync(handedOver.Share, "laptop");
        using RawSigner raw = server.Raw(server.Token("session-binding"));

        BeginSignResponse begun = await raw.Client.BeginSignAsync(new BeginSignRequest
        {
            KeyId = first.KeyId, DeviceId = first.Share.DeviceId, ShareId = ByteString.CopyFrom(first.Share.ShareId),
        }, raw.Headers);
        SignCommitment commitment = SignCommitment.Decode(begun.Commitment.Span);
        SignNonce nonce = new Protocol.Signing.SignClientSession(second.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32))).HandleCommitment(commitment);
        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await raw.Client.SignNonceAsync(new SignNonceRequest
        {
            KeyId = first.KeyId, Nonce = ByteString.CopyFrom(nonce.Encode()),
            DeviceId = second.Share.DeviceId, ShareId = ByteString.CopyFrom(second.Share.ShareId),
        }, raw.Headers));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains($"belongs to device '{first.Share.DeviceId}', not '{second.Share.DeviceId}'", refused.Status.Detail, StringComparison.Ordinal);

        // The session is not spent by the refusal: its own device still completes it.
        SignNonce own = new Protocol.Signing.SignClientSession(first.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32))).HandleCommitment(commitment);
        SignNonceResponse opened = await raw.Client.SignNonceAsync(new SignNonceRequest
        {
            KeyId = first.KeyId, Nonce = ByteString.CopyFrom(own.Encode()),
            DeviceId = first.Share.DeviceId, ShareId = ByteString.CopyFrom(first.Share.ShareId),
        }, raw.Headers);
        Assert.False(opened.Opening.IsEmpty);
        await AssertSigns(laptop, second, first.SubjectPublicKeyInfo);
    }

    [Fact]
    public async Task A_backup_never_signs_restores_once_to_a_new_device_and_is_then_used_up()
    {
        using MpcSignerClient client = server.Client("backer-upper");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] spki = key.SubjectPublicKeyInfo;
        using ClientKeyShare backup = await client.CreateBackupAsync(key, "safe");
        Assert.StartsWith("backup-", backup.DeviceId);
        byte[] backupBytes = backup.ExportSecret();

        using MpcKey backupAsKey = client.OpenKey(ClientKeyShare.ImportSecret(backupBytes, BigNumBackends.Default));
        MpcSignerException notASigner = await Refused(() => client.SignDigestAsync(backupAsKey, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCode.FailedPrecondition, notASigner.Status);
        Assert.Contains("backup", notASigner.Message);

        using MpcSignerClient newPhone = server.Client("backer-upper");
        using MpcKey restored = await newPhone.RestoreBackupAsync(ClientKeyShare.ImportSecret(backupBytes, BigNumBackends.Default), "new phone");
        await AssertSigns(newPhone, restored, spki);
        await AssertSigns(client, key, spki);

        // The backup's server half is destroyed: the same backup neither restores again nor signs.
        MpcSignerException again = await Refused(() => newPhone.RestoreBackupAsync(ClientKeyShare.ImportSecret(backupBytes, BigNumBackends.Default), "thief"));
        Assert.Equal(StatusCode.FailedPrecondition, again.Status);
        Assert.Contains("restored", again.Message);
        IReadOnlyList<MpcDeviceInfo> devices = await client.ListDevicesAsync(key.KeyId);
        Assert.Equal(3, devices.Count);
        Assert.Contains(devices, d => d.IsBackup && d.Revoked);

        // A device cannot "restore" from a device, nor a backup refresh itself.
        MpcSignerException wrongKind = await Refused(() => client.RestoreBackupAsync(ShareCopies.Copy(client, key).Share, "x"));
        Assert.Equal(StatusCode.FailedPrecondition, wrongKind.Status);
    }

    [Fact]
    public async Task The_last_live_pair_is_never_revoked_even_when_it_is_a_backup()
    {
        using MpcSignerClient client = server.Client("last-pair");
        using MpcKey phone = await client.CreateKeyAsync(CurveKind.P256);
        using ClientKeyShare backup = await client.CreateBackupAsync(phone, "drawer");
        byte[] backupBytes = backup.ExportSecret();
        // The phone is lost: revoking it is fine while the backup lives.
        await client.RevokeDeviceAsync(phone.KeyId, phone.Share.DeviceId);
        MpcSignerException refused = await Refused(() => client.RevokeDeviceAsync(phone.KeyId, backup.DeviceId));
        Assert.Equal(StatusCode.FailedPrecondition, refused.Status);
        Assert.Contains("last live share pair", refused.Message);
        using MpcKey restored = await client.RestoreBackupAsync(ClientKeyShare.ImportSecret(backupBytes, BigNumBackends.Default), "new phone");
        await AssertSigns(client, restored, phone.SubjectPublicKeyInfo);
    }

    [Fact]
    public async Task A_refresh_whose_confirmation_never_got_an_answer_hands_back_the_new_share()
    {
        using MpcSignerClient client = server.Client("unknown-outcome");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using var cancel = new CancellationTokenSource();
        // Cancelled just before the confirmation goes out: the SDK cannot know whether the server stored it.
        MpcRefreshOutcomeUnknownException unknown = await Assert.ThrowsAsync<MpcRefreshOutcomeUnknownException>(() => client.RefreshKeyAsync(key, (_, _) =>
        {
            cancel.Cancel();
            return ValueTask.CompletedTask;
        }, cancel.Token));
        using ClientKeyShare pending = unknown.PendingShare!;
        Assert.Equal(key.Share.DeviceId, pending.DeviceId);
        Assert.NotEqual(key.Share.ShareId, pending.ShareId);
        // Here the confirmation never left, so the old share is still the one the server holds.
        await AssertSigns(client, key, key.SubjectPublicKeyInfo);
        using MpcKey notStored = client.OpenKey(ClientKeyShare.ImportSecret(pending.ExportSecret(), BigNumBackends.Default));
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(() => client.SignDigestAsync(notStored, RandomNumberGenerator.GetBytes(32)))).Status);
    }

    [Fact]
    public async Task A_pending_share_handler_that_fails_ends_the_refresh_with_its_own_error_before_the_server_is_asked_to_switch()
    {
        using MpcSignerClient client = server.Client("pending-handler-fails");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);

        // A full disk while the new share is saved: nothing has asked the server to switch, so this is no unknown outcome.
        IOException full = await Assert.ThrowsAsync<IOException>(() => client.RefreshKeyAsync(key, (_, _) =>
            ValueTask.FromException(new IOException("No space left on device (test)"))));

        Assert.Equal("No space left on device (test)", full.Message);
        await AssertSigns(client, key, key.SubjectPublicKeyInfo);
        Assert.True(await PendingKeyFile.ServerHoldsAsync(client, key.Share));
    }

    [Fact]
    public async Task A_refresh_whose_final_write_fails_keeps_the_old_pair_in_force_in_memory_and_in_storage()
    {
        const string user = "storage-fault";
        using MpcSignerClient client = server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] exported = key.Share.ExportSecret();
        string file = StoredKeys.FileOf(server.DataDirectory, user);
        byte[] original = await File.ReadAllBytesAsync(file);
        StoredDevice before = (await StoredKeys.ReadAsync(server.DataDirectory, user)).Keys.Keys[key.KeyId].Devices[key.Share.DeviceId];

        // The state file breaks just before the confirmation is sent, so the grain's one write of the new pair fails.
        MpcRefreshOutcomeUnknownException unknown = await Assert.ThrowsAsync<MpcRefreshOutcomeUnknownException>(() => client.RefreshKeyAsync(key, async (_, cancellationToken) =>
        {
            byte[] corrupt = (byte[])original.Clone();
            corrupt[^1] ^= 0xff;
            await File.WriteAllBytesAsync(file, corrupt, cancellationToken);
        }));
        Assert.Equal(StatusCode.Internal, Assert.IsType<MpcSignerException>(unknown.InnerException).Status);
        using ClientKeyShare notStored = unknown.PendingShare!;
        await File.WriteAllBytesAsync(file, original);

        // The grain put its old state back: the old share signs, the new one is not the device's share.
        await AssertSigns(client, key, key.SubjectPublicKeyInfo);
        using (MpcKey pending = client.OpenKey(ClientKeyShare.ImportSecret(notStored.ExportSecret(), BigNumBackends.Default)))
        {
            Assert.Equal(StatusCode.FailedPrecondition, (await Refused(() => client.SignDigestAsync(pending, RandomNumberGenerator.GetBytes(32)))).Status);
        }
        // The refresh had advanced the key's generation before its write failed, so the next signature stored the devices
        // again under a new one (docs/service.md): the same pair, not the file byte for byte.
        StoredDevice after = (await StoredKeys.ReadAsync(server.DataDirectory, user)).Keys.Keys[key.KeyId].Devices[key.Share.DeviceId];
        Assert.Equal(before.ShareId, after.ShareId);
        Assert.Equal(before.SealedShare, after.SealedShare);
        Assert.Empty(after.ReplacedShareIds);

        // And storage agrees after a restart.
        await server.RestartAsync();
        using MpcSignerClient again = server.Client(user);
        using MpcKey reopened = again.OpenKey(ClientKeyShare.ImportSecret(exported, BigNumBackends.Default));
        await AssertSigns(again, reopened, key.SubjectPublicKeyInfo);
    }

    [Fact]
    public async Task A_key_is_unfrozen_at_most_three_times()
    {
        const string user = "serial-freezer";
        MpcKey key;
        using (MpcSignerClient creator = server.Client(user))
        {
            key = await creator.CreateKeyAsync(CurveKind.P256);
        }
        for (int round = 1; round <= 4; round++)
        {
            // The freeze itself comes from storage: an abort-attack c3 is now refused before decryption (no freeze).
            await server.FreezeInStorageAsync(user, key.KeyId);
            using MpcSignerClient client = server.Client(user);
            using var admin = new MpcSignerClient(server.Address, server.AdminToken());
            if (round == 4)
            {
                MpcSignerException capped = await Refused(() => admin.UnfreezeKeyAsync(user, key.KeyId));
                Assert.Equal(StatusCode.FailedPrecondition, capped.Status);
                Assert.Contains("Replace it with a new key", capped.Message);
                Assert.True((await client.GetKeyAsync(key.KeyId)).Frozen);
                break;
            }
            Assert.False((await admin.UnfreezeKeyAsync(user, key.KeyId)).Frozen);
            MpcKey refreshed = await client.RefreshKeyAsync(key);
            key.Dispose();
            key = refreshed;
        }
        key.Dispose();
    }

    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    [InlineData(CurveKind.Secp256k1)]
    public async Task An_imported_key_keeps_its_public_key_and_signs(CurveKind curve)
    {
        EcCurve c = EcCurve.Get(curve);
        Org.BouncyCastle.Math.BigInteger d = c.RandomScalar();
        byte[] scalar = c.EncodeScalar(d);
        byte[] originalSpki = PublicKeyEncoding.ToSubjectPublicKeyInfo(c, c.MultiplyBase(d));
        using MpcSignerClient client = server.Client("importer");
        using MpcKey imported = await client.ImportKeyAsync(curve, scalar, label: "from CA");
        CryptographicOperations.ZeroMemory(scalar);
        Assert.Equal(originalSpki, imported.SubjectPublicKeyInfo);
        MpcKeyInfo info = await client.GetKeyAsync(imported.KeyId);
        Assert.True(info.Imported);
        Assert.Equal(originalSpki, info.SubjectPublicKeyInfo);
        await AssertSigns(client, imported, originalSpki);
    }

    [Fact]
    public async Task A_frozen_key_refuses_refresh_until_an_operator_unfreezes_it_and_then_every_device_must_refresh()
    {
        MpcKey created;
        using (MpcSignerClient creator = server.Client("frozen-owner"))
        {
            created = await creator.CreateKeyAsync(CurveKind.P256);
        }
        using MpcKey key = created;
        byte[] spki = key.SubjectPublicKeyInfo;
        await server.FreezeInStorageAsync("frozen-owner", key.KeyId);
        using MpcSignerClient client = server.Client("frozen-owner");
        Assert.True((await client.GetKeyAsync(key.KeyId)).Frozen);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(() => client.RefreshKeyAsync(key))).Status);

        // The owner is not an operator, and an operator must name the right owner.
        Assert.Equal(StatusCode.PermissionDenied, (await Refused(() => client.UnfreezeKeyAsync("frozen-owner", key.KeyId))).Status);
        using var admin = new MpcSignerClient(server.Address, server.AdminToken());
        Assert.Equal(StatusCode.NotFound, (await Refused(() => admin.UnfreezeKeyAsync("someone-else", key.KeyId))).Status);

        MpcKeyInfo unfrozen = await admin.UnfreezeKeyAsync("frozen-owner", key.KeyId);
        Assert.False(unfrozen.Frozen);
        MpcSignerException mustRefresh = await Refused(() => client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCode.FailedPrecondition, mustRefresh.Status);
        Assert.Contains("refresh", mustRefresh.Message);
        Assert.True(Assert.Single(await client.ListDevicesAsync(key.KeyId)).MustRefresh);

        using MpcKey refreshed = await client.RefreshKeyAsync(key);
        await AssertSigns(client, refreshed, spki);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(() => admin.UnfreezeKeyAsync("frozen-owner", key.KeyId))).Status);
    }

    [Fact]
    public async Task Malformed_refresh_messages_get_clear_status_codes_and_the_key_keeps_signing()
    {
        using MpcSignerClient client = server.Client("refresh-fuzzer");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] spki = key.SubjectPublicKeyInfo;
        using RawSigner raw = server.Raw(server.Token("refresh-fuzzer"));
        var deviceShare = ByteString.CopyFrom(key.Share.ShareId);

        BeginRefreshRequest Begin(byte[] request, RefreshPurpose purpose = RefreshPurpose.Refresh, string device = "primary") => new()
        {
            KeyId = key.KeyId,
            DeviceId = device,
            ShareId = deviceShare,
            Purpose = purpose,
            Request = ByteString.CopyFrom(request),
        };
        byte[] goodRequest = new RefreshRequest(Protocol.Messages.RefreshPurpose.Refresh, CurveKind.P256, RandomNumberGenerator.GetBytes(32)).Encode();

        Assert.Equal(StatusCode.InvalidArgument, await RawSigner.StatusOf(async () => await raw.Client.BeginRefreshAsync(Begin([1, 2, 3]), raw.Headers)));
        Assert.Equal(StatusCode.InvalidArgument, await RawSigner.StatusOf(async () => await raw.Client.BeginRefreshAsync(Begin(goodRequest, RefreshPurpose.Unspecified), raw.Headers)));
        Assert.Equal(StatusCode.InvalidArgument, await RawSigner.StatusOf(async () => await raw.Client.BeginRefreshAsync(Begin(
            new RefreshRequest(Protocol.Messages.RefreshPurpose.Refresh, CurveKind.P384, RandomNumberGenerator.GetBytes(32)).Encode()), raw.Headers)));
        Assert.Equal(StatusCode.InvalidArgument, await RawSigner.StatusOf(async () => await raw.Client.BeginRefreshAsync(Begin(
            new RefreshRequest(Protocol.Messages.RefreshPurpose.Enrol, CurveKind.P256, RandomNumberGenerator.GetBytes(32)).Encode()), raw.Headers)));
        Assert.Equal(StatusCode.NotFound, await RawSigner.StatusOf(async () => await raw.Client.BeginRefreshAsync(Begin(goodRequest, device: "device-unknown"), raw.Headers)));
        Assert.Equal(StatusCode.NotFound, await RawSigner.StatusOf(async () => await raw.Client.ContinueRefreshAsync(
            new ContinueRefreshRequest { KeyId = key.KeyId, RefreshId = "00", Contribution = ByteString.CopyFrom([1]) }, raw.Headers)));

        // A malformed contribution burns the refresh session; a later confirmation finds nothing.
        BeginRefreshResponse started = await raw.Client.BeginRefreshAsync(Begin(goodRequest), raw.Headers);
        Assert.Equal(StatusCode.InvalidArgument, await RawSigner.StatusOf(async () => await raw.Client.ContinueRefreshAsync(
            new ContinueRefreshRequest { KeyId = key.KeyId, RefreshId = started.RefreshId, Contribution = ByteString.CopyFrom(new byte[64]) }, raw.Headers)));
        Assert.Equal(StatusCode.NotFound, await RawSigner.StatusOf(async () => await raw.Client.CompleteRefreshAsync(
            new CompleteRefreshRequest { KeyId = key.KeyId, RefreshId = started.RefreshId, Confirmation = ByteString.CopyFrom([1]) }, raw.Headers)));

        // A device's new refresh replaces the one it left in progress: five abandoned ones leave one slot taken, and the
        // earlier ones are gone.
        BeginRefreshResponse[] abandoned = new BeginRefreshResponse[5];
        for (int i = 0; i < abandoned.Length; i++)
        {
            abandoned[i] = await raw.Client.BeginRefreshAsync(Begin(new RefreshRequest(Protocol.Messages.RefreshPurpose.Refresh, CurveKind.P256, RandomNumberGenerator.GetBytes(32)).Encode()), raw.Headers);
        }
        Assert.Equal(StatusCode.NotFound, await RawSigner.StatusOf(async () => await raw.Client.ContinueRefreshAsync(
            new ContinueRefreshRequest { KeyId = key.KeyId, RefreshId = abandoned[3].RefreshId, Contribution = ByteString.CopyFrom([1]) }, raw.Headers)));

        // At most four refreshes in progress per key: that one and three enrolments.
        for (int i = 0; i < 3; i++)
        {
            await raw.Client.BeginRefreshAsync(Begin(new RefreshRequest(Protocol.Messages.RefreshPurpose.Enrol, CurveKind.P256, RandomNumberGenerator.GetBytes(32)).Encode(), RefreshPurpose.Enrol), raw.Headers);
        }
        Assert.Equal(StatusCode.ResourceExhausted, await RawSigner.StatusOf(async () => await raw.Client.BeginRefreshAsync(Begin(
            new RefreshRequest(Protocol.Messages.RefreshPurpose.Enrol, CurveKind.P256, RandomNumberGenerator.GetBytes(32)).Encode(), RefreshPurpose.Enrol), raw.Headers)));

        // Someone else's refresh session: through their key id it is PermissionDenied, through one's own key NotFound.
        using (MpcSignerClient otherClient = server.Client("refresh-neighbour"))
        using (MpcKey otherKey = await otherClient.CreateKeyAsync(CurveKind.P256))
        using (RawSigner neighbour = server.Raw(server.Token("refresh-neighbour")))
        {
            BeginRefreshResponse theirs = await neighbour.Client.BeginRefreshAsync(new BeginRefreshRequest
            {
                KeyId = otherKey.KeyId,
                DeviceId = "primary",
                ShareId = ByteString.CopyFrom(otherKey.Share.ShareId),
                Purpose = RefreshPurpose.Refresh,
                Request = ByteString.CopyFrom(goodRequest),
            }, neighbour.Headers);
            Assert.Equal(StatusCode.PermissionDenied, await RawSigner.StatusOf(async () => await raw.Client.ContinueRefreshAsync(
                new ContinueRefreshRequest { KeyId = otherKey.KeyId, RefreshId = theirs.RefreshId, Contribution = ByteString.CopyFrom([1]) }, raw.Headers)));
            Assert.Equal(StatusCode.NotFound, await RawSigner.StatusOf(async () => await raw.Client.ContinueRefreshAsync(
                new ContinueRefreshRequest { KeyId = key.KeyId, RefreshId = theirs.RefreshId, Contribution = ByteString.CopyFrom([1]) }, raw.Headers)));
        }

        // Someone else's key.
        using RawSigner other = server.Raw(server.Token("not-the-owner"));
        Assert.Equal(StatusCode.PermissionDenied, await RawSigner.StatusOf(async () => await other.Client.BeginRefreshAsync(Begin(goodRequest), other.Headers)));
        Assert.Equal(StatusCode.PermissionDenied, await RawSigner.StatusOf(async () => await other.Client.ListDevicesAsync(new ListDevicesRequest { KeyId = key.KeyId }, other.Headers)));
        Assert.Equal(StatusCode.PermissionDenied, await RawSigner.StatusOf(async () => await other.Client.RevokeDeviceAsync(new RevokeDeviceRequest { KeyId = key.KeyId, DeviceId = "primary" }, other.Headers)));

        // Import with an off-curve public key or an unknown curve.
        var import = new BeginImportRequest
        {
            Curve = "P-256",
            PublicKey = ByteString.CopyFrom(new byte[33]),
            SeedShare = ByteString.CopyFrom(EcCurve.Get(CurveKind.P256).EncodeScalar(Org.BouncyCastle.Math.BigInteger.Two)),
            Request = ByteString.CopyFrom(goodRequest),
        };
        Assert.Equal(StatusCode.InvalidArgument, await RawSigner.StatusOf(async () => await raw.Client.BeginImportAsync(import, raw.Headers)));
        import.Curve = "brainpoolP256r1";
        Assert.Equal(StatusCode.InvalidArgument, await RawSigner.StatusOf(async () => await raw.Client.BeginImportAsync(import, raw.Headers)));

        Assert.Equal(spki, (await client.GetKeyAsync(key.KeyId)).SubjectPublicKeyInfo);
        Assert.Single(await client.ListDevicesAsync(key.KeyId));
        await AssertSigns(client, key, spki);
    }
}
