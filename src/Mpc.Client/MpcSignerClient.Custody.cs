using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.KeyStore;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Mpc.Transport.V1;
using Org.BouncyCastle.Math;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Client;

/// <summary>
/// Called with a refresh's new share after the client has checked it and before the server switches to it, or with a
/// new key's share before the server stores the key. Persist it here (beside the old one): if the server's
/// acknowledgement is lost, or the process ends before the caller keeps the result, the new share is the one the server
/// expects. Without a handler, a lost acknowledgement surfaces as <see cref="MpcRefreshOutcomeUnknownException"/> (or
/// <see cref="MpcKeyGenOutcomeUnknownException"/>), which carries the new share. A handler that throws ends the
/// operation with its own exception before the server is asked anything, and the new share is disposed.
/// </summary>
public delegate ValueTask PendingShareHandler(ClientKeyShare pending, CancellationToken cancellationToken);

public sealed partial class MpcSignerClient
{
    /// <summary>
    /// Replaces this device's share pair with a fresh one (new x1, x2 and Paillier key; same public key).
    /// The old client share is refused by the server afterwards. Dispose <paramref name="key"/> when the
    /// returned key is saved.
    /// </summary>
    public async Task<MpcKey> RefreshKeyAsync(MpcKey key, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default) =>
        OpenKey(await RefreshFrom(key.Share, Transport.V1.RefreshPurpose.Refresh, "", savePending, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Refreshes the key of a key file while the file is still being decrypted: <paramref name="header"/> is the
    /// file's clear header (<see cref="ClientKeyFile.ReadPublicInfo"/>), <paramref name="opening"/> its decryption
    /// running meanwhile (<see cref="ClientKeyFile.Load(string, KeyFileProtection, MpcArithmetic?)"/> on another
    /// thread). The first round trips need only public values, so they (and the server's work on the new Paillier key)
    /// overlap the file's and the device profile's Argon2id. The refresh waits for the share before it checks the
    /// server's new share and finishes only if the share and the device's parameters are exactly those the headers
    /// named; otherwise the server's refresh is abandoned before its commit (and replaced by the device's next one). A
    /// version 1 header, which names no device, waits for the share first. The caller owns <paramref name="opening"/>:
    /// it awaits it and disposes the share whatever the outcome (this method may return before the opening ends).
    /// </summary>
    /// <exception cref="MpcSignerException">
    /// The opening's own failure (a wrong passphrase, a damaged file) rather than a later one; or
    /// <see cref="MpcErrorReason.SessionMismatch"/>: the decrypted share does not match the header.
    /// </exception>
    public Task<MpcKey> RefreshKeyFileAsync(KeyFileInfo header, Task<ClientKeyShare> opening, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(opening);
        return Checked(async () => OpenKey(await RefreshOpeningCore(header, opening, savePending, cancellationToken).ConfigureAwait(false)));
    }

    /// <summary>
    /// Makes a new device's own share pair from a share another device handed over (see <c>DeviceHandover</c>;
    /// check it first with <c>OpenedHandover.ImportShare</c>). The new device gets a new device id. The handing-over
    /// device keeps its own pair, whose x2 is the share that travelled in the handover: that device should refresh
    /// (<see cref="RefreshKeyAsync"/>) once this enrolment shows in <see cref="ListDevicesAsync"/>.
    /// </summary>
    public async Task<MpcKey> EnrolDeviceAsync(ClientKeyShare handedOver, string label, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default) =>
        OpenKey(await RefreshFrom(handedOver, Transport.V1.RefreshPurpose.Enrol, label, savePending, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Derives a backup share pair from <paramref name="key"/>'s. The server keeps its half as a backup that never
    /// signs; the caller wraps the returned client share with a passphrase (<c>ClientShareBackup</c>) and keeps it
    /// off the server. Dispose the returned share once wrapped.
    /// </summary>
    public async Task<ClientKeyShare> CreateBackupAsync(MpcKey key, string label, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default)
    {
        return await RefreshFrom(key.Share, Transport.V1.RefreshPurpose.Backup, label, savePending, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Restores a backup share onto this device: a refresh makes this device's own pair, and the server destroys
    /// the backup's half, so the backup file is used up (make a new backup afterwards).
    /// </summary>
    public async Task<MpcKey> RestoreBackupAsync(ClientKeyShare backup, string label, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default) =>
        OpenKey(await RefreshFrom(backup, Transport.V1.RefreshPurpose.Restore, label, savePending, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Imports a whole private key the user already holds (for example from a CA-issued PKCS#12): it is split here,
    /// the server receives a random seed share, and a refresh re-randomises both parts, so neither final share was
    /// chosen by one party alone. <paramref name="privateKey"/> is the big-endian scalar; the caller zeroes it
    /// and should destroy the original file. The certificate chain (leaf first), if any, is stored with the key.
    /// </summary>
    public Task<MpcKey> ImportKeyAsync(
        CurveKind curve,
        ReadOnlyMemory<byte> privateKey,
        IReadOnlyList<X509Certificate2>? certificateChain = null,
        string label = "",
        PendingShareHandler? savePending = null,
        CancellationToken cancellationToken = default) =>
        Checked(() => ImportCore(curve, privateKey, certificateChain, label, savePending, cancellationToken));

    private async Task<MpcKey> ImportCore(
        CurveKind curve,
        ReadOnlyMemory<byte> privateKey,
        IReadOnlyList<X509Certificate2>? certificateChain,
        string label,
        PendingShareHandler? savePending,
        CancellationToken cancellationToken)
    {
        label = RequireLabel(label);
        EcCurve c = EcCurve.Get(curve);
        BigInteger d = c.DecodeScalar(privateKey.Span, "private key");
        using var clock = new OperationClock("import", _logger, curve);
        RingPedersenSecret ringPedersen = await clock.DeviceSetup(() => DeviceParametersAsync(cancellationToken)).ConfigureAwait(false);
        using var session = RefreshClientSession.ForImport(curve, d, ringPedersen, _backend, out byte[] seed, out byte[] publicKey);
        var request = new BeginImportRequest
        {
            Curve = c.Name,
            PublicKey = ByteString.CopyFrom(publicKey),
            SeedShare = ByteString.CopyFrom(seed),
            Label = label,
            Request = ByteString.CopyFrom(session.Start().Encode()),
        };
        CryptographicOperations.ZeroMemory(seed);
        foreach (X509Certificate2 certificate in certificateChain ?? [])
        {
            request.CertificateChain.Add(ByteString.CopyFrom(certificate.RawData));
        }
        ClientKeyShare share = await RunRefresh(session, curve, null, o => _grpc.BeginImportAsync(request, o).ResponseAsync, savePending, clock, cancellationToken).ConfigureAwait(false);
        if (!share.PublicKey.Equals(c.MultiplyBase(d)))
        {
            share.Dispose();
            throw new MpcProtocolException(MpcErrorCode.SignatureCheckFailed, "The imported key's public key differs from the original's.");
        }
        return OpenKey(share);
    }

    /// <summary>
    /// Imports a key read by <see cref="Custody.ImportedKeyReader"/>, with the certificate chain found in its file.
    /// Dispose <paramref name="imported"/> afterwards (it zeroes the scalar) and destroy the original file.
    /// </summary>
    public async Task<MpcKey> ImportKeyAsync(Custody.ImportedKey imported, string label = "", PendingShareHandler? savePending = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imported);
        X509Certificate2[] chain = [.. imported.CertificateChain.Select(c => X509CertificateLoader.LoadCertificate(c.Span))];
        byte[] scalar = imported.PrivateScalar.ToArray();
        try
        {
            return await ImportKeyAsync(imported.Curve, scalar, chain, label, savePending, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
            foreach (X509Certificate2 certificate in chain)
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>The key's devices and backups, revoked ones included.</summary>
    public async Task<IReadOnlyList<MpcDeviceInfo>> ListDevicesAsync(string keyId, CancellationToken cancellationToken = default)
    {
        ListDevicesResponse response = await Call(o => _grpc.ListDevicesAsync(new ListDevicesRequest { KeyId = keyId }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        return [.. response.Devices.Select(MpcDeviceInfo.From)];
    }

    /// <summary>Destroys a device's (or backup's) server-side share: its client share never signs or restores again.</summary>
    public async Task<MpcDeviceInfo> RevokeDeviceAsync(string keyId, string deviceId, CancellationToken cancellationToken = default) =>
        MpcDeviceInfo.From(await Call(o => _grpc.RevokeDeviceAsync(new RevokeDeviceRequest { KeyId = keyId, DeviceId = deviceId }, o).ResponseAsync, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Operator only (a token with scope "mpc.admin"): lifts a freeze; every remaining device must refresh before
    /// it signs. <paramref name="revokeDeviceId"/> also revokes the device whose signature failed.
    /// </summary>
    public async Task<MpcKeyInfo> UnfreezeKeyAsync(string userId, string keyId, string? revokeDeviceId = null, CancellationToken cancellationToken = default) =>
        MpcKeyInfo.From(await Call(o => _admin.UnfreezeKeyAsync(
            new UnfreezeKeyRequest { UserId = userId, KeyId = keyId, RevokeDeviceId = revokeDeviceId ?? "" }, o).ResponseAsync, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// The label as sent, refused here with the server's wording (<see cref="DeviceLabels"/>) before a device parameter is
    /// loaded or a round trip spent on a refusal.
    /// </summary>
    private static string RequireLabel(string? label) =>
        DeviceLabels.IsValid(label) ? label ?? "" : throw new ArgumentException(DeviceLabels.Invalid, nameof(label));

    private Task<ClientKeyShare> RefreshFrom(ClientKeyShare source, Transport.V1.RefreshPurpose purpose, string label, PendingShareHandler? savePending, CancellationToken cancellationToken) =>
        Checked(() => RefreshCore(source, purpose, label, savePending, cancellationToken));

    private async Task<ClientKeyShare> RefreshCore(ClientKeyShare source, Transport.V1.RefreshPurpose purpose, string label, PendingShareHandler? savePending, CancellationToken cancellationToken)
    {
        label = RequireLabel(label);
        using var clock = new OperationClock(purpose.ToString().ToLowerInvariant(), _logger, source.Curve, source.KeyId);
        RingPedersenSecret ringPedersen = await clock.DeviceSetup(() => DeviceParametersAsync(cancellationToken)).ConfigureAwait(false);
        Protocol.Messages.RefreshPurpose protocolPurpose = purpose switch
        {
            Transport.V1.RefreshPurpose.Refresh => Protocol.Messages.RefreshPurpose.Refresh,
            Transport.V1.RefreshPurpose.Enrol => Protocol.Messages.RefreshPurpose.Enrol,
            Transport.V1.RefreshPurpose.Backup => Protocol.Messages.RefreshPurpose.Backup,
            _ => Protocol.Messages.RefreshPurpose.Restore,
        };
        using var session = RefreshClientSession.FromShare(source, protocolPurpose, ringPedersen, _backend);
        var request = new BeginRefreshRequest
        {
            KeyId = source.KeyId,
            DeviceId = source.DeviceId,
            ShareId = ByteString.CopyFrom(source.ShareId),
            Purpose = purpose,
            Label = label,
            Request = ByteString.CopyFrom(session.Start().Encode()),
        };
        return await RunRefresh(session, source.Curve, source.KeyId, o => _grpc.BeginRefreshAsync(request, o).ResponseAsync, savePending, clock, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ClientKeyShare> RefreshOpeningCore(KeyFileInfo header, Task<ClientKeyShare> opening, PendingShareHandler? savePending, CancellationToken cancellationToken)
    {
        // The parameters are read before any opening work of this client starts: that work blocks threads (Argon2id, or
        // waiting for the other's), and on a small machine an await here could wait for one of them to come free.
        // Nothing public to start from (a version 1 header, a new device, a profile that keeps its parameters sealed):
        // today's order.
        if (header is not { DeviceId: { } deviceId, ShareId: not null }
            || await PublicDeviceParametersAsync(cancellationToken).ConfigureAwait(false) is not { } early)
        {
            return await RefreshCore(await opening.WaitAsync(cancellationToken).ConfigureAwait(false), Transport.V1.RefreshPurpose.Refresh, "", savePending, cancellationToken).ConfigureAwait(false);
        }
        // The header is checked, and the session made, before any profile work starts: a header that does not parse
        // then leaves nothing of this client's running.
        EcCurve curve = EcCurve.Get(header.Curve);
        ECPoint publicKey;
        try
        {
            publicKey = PublicKeyEncoding.FromPem(curve, header.PublicKeyPem);
        }
        catch (FormatException e)
        {
            throw new MpcSignerException(MpcErrorReason.KeyFileCorrupt, "key file is corrupt: its clear header does not parse", e);
        }
        byte[] shareId = header.ShareIdBytes()
            ?? throw new MpcSignerException(MpcErrorReason.KeyFileCorrupt, "key file is corrupt: its clear header does not parse");
        using var session = RefreshClientSession.Opening(header.KeyId, deviceId, shareId, header.Curve, publicKey, early, _backend);
        using var clock = new OperationClock("refresh", _logger, header.Curve, header.KeyId);
        // Device setup here is the profile and the key file together: whichever derives first, the other reuses its
        // Argon2id. The key file's failure comes first (a mistyped passphrase fails both, and it is the key file the
        // user asked to open); the profile is still awaited, so nothing is left running unobserved.
        Task<RingPedersenSecret> setup = Task.Run(() => clock.DeviceSetup(async () =>
        {
            Task<(RingPedersenSecret Secret, DeviceProfileSource Source)> profile = DeviceParametersAsync(cancellationToken, mayCreate: false);
            try
            {
                await opening.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await ((Task)profile).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw;
            }
            return await profile.ConfigureAwait(false);
        }), cancellationToken);
        bool supplied = false;
        async Task Supply()
        {
            if (!supplied)
            {
                RingPedersenSecret secret = await clock.AfterOverlap(setup).ConfigureAwait(false);
                session.Supply(await opening.ConfigureAwait(false), secret);
                supplied = true;
            }
        }
        var request = new BeginRefreshRequest
        {
            KeyId = header.KeyId,
            DeviceId = deviceId,
            ShareId = ByteString.CopyFrom(shareId),
            Purpose = Transport.V1.RefreshPurpose.Refresh,
            Request = ByteString.CopyFrom(session.Start().Encode()),
        };
        return await RunRefresh(session, header.Curve, header.KeyId, o => _grpc.BeginRefreshAsync(request, o).ResponseAsync, savePending, clock, cancellationToken, Supply).ConfigureAwait(false);
    }

    /// <summary>The device's public parameters without opening its profile: cached, or the store's clear header; null when neither has them.</summary>
    private async ValueTask<RingPedersenParameters?> PublicDeviceParametersAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _deviceParameters) is { } cached)
        {
            return cached.Parameters;
        }
        if (_options.DeviceProfileStore is IDeviceProfilePeek peek)
        {
            try
            {
                return await peek.PeekParametersAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (MpcSignerException)
            {
                // A header that does not parse: opening the profile reports it properly.
                return null;
            }
        }
        return null;
    }

    /// <summary>
    /// Rounds 1 to 5 of a refresh. <paramref name="supply"/>, for a session whose share is still being opened, hands
    /// it over and is awaited before the session needs it (round 3 when the server asks for Πprm, round 4 always);
    /// when a round trip fails before that it is awaited too, so the opening's own failure (a wrong passphrase) is the
    /// one reported.
    /// </summary>
    private async Task<ClientKeyShare> RunRefresh(
        RefreshClientSession session,
        CurveKind curve,
        string? keyId,
        Func<Grpc.Core.CallOptions, Task<BeginRefreshResponse>> begin,
        PendingShareHandler? savePending,
        OperationClock clock,
        CancellationToken cancellationToken,
        Func<Task>? supply = null)
    {
        BeginRefreshResponse started;
        ContinueRefreshResponse continued;
        try
        {
            started = await clock.Server(() => Call(begin, cancellationToken)).ConfigureAwait(false);
            clock.KeyId = started.KeyId;
            RefreshCommitment commitment = RefreshCommitment.Decode(started.Commitment.Span);
            if (commitment.KeyId != started.KeyId || (keyId is not null && keyId != started.KeyId))
            {
                throw new MpcProtocolException(MpcErrorCode.SessionMismatch, "The server's key id and commitment disagree.");
            }
            if (supply is not null && session.NeedsSecretsFor(commitment))
            {
                await supply().ConfigureAwait(false);
            }
            RefreshContribution contribution = await clock.ClientProofs(() => Task.Run(() => session.HandleCommitment(commitment), cancellationToken)).ConfigureAwait(false);
            continued = await clock.Server(() => Call(o => _grpc.ContinueRefreshAsync(new ContinueRefreshRequest
            {
                KeyId = started.KeyId,
                RefreshId = started.RefreshId,
                Contribution = ByteString.CopyFrom(contribution.Encode()),
            }, o).ResponseAsync, cancellationToken)).ConfigureAwait(false);
        }
        catch when (supply is not null)
        {
            await supply().ConfigureAwait(false);
            throw;
        }
        if (supply is not null)
        {
            await supply().ConfigureAwait(false);
        }
        // Checking the new Paillier key's proofs is the client's heaviest step.
        RefreshClientOutput output = await clock.Verification(() => Task.Run(
            () => session.HandleServerShare(RefreshServerShare.Decode(continued.ServerShare.Span, curve)), cancellationToken)).ConfigureAwait(false);
        if (savePending is not null)
        {
            // Before the try below: nothing has asked the server to switch yet, so a handler's failure (a full disk) is
            // that failure, not an unknown outcome, and the new share signs nothing.
            try
            {
                await savePending(output.Share, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                output.Share.Dispose();
                throw;
            }
        }
        try
        {
            CompleteRefreshResponse completed = await clock.Server(() => Call(o => _grpc.CompleteRefreshAsync(new CompleteRefreshRequest
            {
                KeyId = started.KeyId,
                RefreshId = started.RefreshId,
                Confirmation = ByteString.CopyFrom(output.Confirmation.Encode()),
            }, o).ResponseAsync, cancellationToken)).ConfigureAwait(false);
            if (!completed.Key.PublicKey.Span.SequenceEqual(PublicKeyEncoding.ToSubjectPublicKeyInfo(EcCurve.Get(curve), output.Share.PublicKey))
                || completed.Device.DeviceId != output.Share.DeviceId
                || !completed.Device.ShareId.Span.SequenceEqual(output.Share.ShareId))
            {
                throw new MpcProtocolException(MpcErrorCode.SessionMismatch, "The server reports a different key or share than the refresh produced.");
            }
        }
        catch (Exception e) when (!MpcOutcomeUnknownException.ProvesNothingStored(e))
        {
            // The confirmation may have been stored: the new share must not be thrown away.
            throw new MpcRefreshOutcomeUnknownException(output.Share, e);
        }
        catch
        {
            output.Share.Dispose();
            throw;
        }
        clock.Report(_options.Timings);
        return output.Share;
    }
}

/// <summary>One device's (or backup's) share pair of a key, as the server reports it.</summary>
public sealed record MpcDeviceInfo(
    string DeviceId,
    string Kind,
    string Label,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RefreshedAt,
    DateTimeOffset? RevokedAt,
    bool MustRefresh,
    string ShareId)
{
    /// <summary>True for a backup (it never signs; restoring consumes it).</summary>
    public bool IsBackup => Kind == "backup";

    /// <summary>True once the device's server-side share is destroyed.</summary>
    public bool Revoked => RevokedAt is not null;

    internal static MpcDeviceInfo From(DeviceInfo info) => new(
        info.DeviceId,
        info.Kind,
        info.Label,
        ServerTimestamp.From(info.CreatedUnixMs, $"device {info.DeviceId}"),
        info.RefreshedUnixMs == 0 ? null : ServerTimestamp.From(info.RefreshedUnixMs, $"device {info.DeviceId}"),
        info.RevokedUnixMs == 0 ? null : ServerTimestamp.From(info.RevokedUnixMs, $"device {info.DeviceId}"),
        info.MustRefresh,
        Convert.ToHexStringLower(info.ShareId.Span));
}
