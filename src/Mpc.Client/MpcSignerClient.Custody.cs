using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Mpc.Transport.V1;
using Org.BouncyCastle.Math;

namespace Mpc.Client;

/// <summary>
/// Called with a refresh's new share after the client has checked it and before the server switches to it.
/// Persist it here (beside the old one): if the server's acknowledgement is lost, the new share is the one
/// the server expects.
/// </summary>
public delegate ValueTask PendingShareHandler(ClientKeyShare pending, CancellationToken cancellationToken);

public sealed partial class MpcSignerClient
{
    /// <summary>
    /// Replaces this device's share pair with a fresh one (new x1, x2 and Paillier key; same public key).
    /// The old client share is refused by the server afterwards. Dispose <paramref name="key"/> when the
    /// returned key is saved.
    /// </summary>
    public Task<MpcKey> RefreshKeyAsync(MpcKey key, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default) =>
        RefreshFrom(key.Share, Transport.V1.RefreshPurpose.Refresh, "", savePending, cancellationToken);

    /// <summary>
    /// Makes a new device's own share pair from a share another device handed over (see <c>DeviceHandover</c>).
    /// The handing-over device keeps its own pair; the new one gets a new device id.
    /// </summary>
    public Task<MpcKey> EnrolDeviceAsync(ClientKeyShare handedOver, string label, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default) =>
        RefreshFrom(handedOver, Transport.V1.RefreshPurpose.Enrol, label, savePending, cancellationToken);

    /// <summary>
    /// Derives a backup share pair from <paramref name="key"/>'s. The server keeps its half as a backup that never
    /// signs; the caller wraps the returned client share with a passphrase (<c>ClientShareBackup</c>) and keeps it
    /// off the server. Dispose the returned share once wrapped.
    /// </summary>
    public async Task<ClientKeyShare> CreateBackupAsync(MpcKey key, string label, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default)
    {
        MpcKey backup = await RefreshFrom(key.Share, Transport.V1.RefreshPurpose.Backup, label, savePending, cancellationToken, openKey: false).ConfigureAwait(false);
        return backup.Share;
    }

    /// <summary>
    /// Restores a backup share onto this device: a refresh makes this device's own pair, and the server destroys
    /// the backup's half, so the backup file is used up (make a new backup afterwards).
    /// </summary>
    public Task<MpcKey> RestoreBackupAsync(ClientKeyShare backup, string label, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default) =>
        RefreshFrom(backup, Transport.V1.RefreshPurpose.Restore, label, savePending, cancellationToken);

    /// <summary>
    /// Imports a whole private key the user already holds (for example from a CA-issued PKCS#12): it is split here,
    /// the server receives a random seed share, and a refresh re-randomises both parts, so neither final share was
    /// chosen by one party alone. <paramref name="privateKey"/> is the big-endian scalar; the caller zeroes it
    /// and should destroy the original file. The certificate chain (leaf first), if any, is stored with the key.
    /// </summary>
    public async Task<MpcKey> ImportKeyAsync(
        CurveKind curve,
        ReadOnlyMemory<byte> privateKey,
        IReadOnlyList<X509Certificate2>? certificateChain = null,
        string label = "",
        PendingShareHandler? savePending = null,
        CancellationToken cancellationToken = default)
    {
        EcCurve c = EcCurve.Get(curve);
        BigInteger d = c.DecodeScalar(privateKey.Span, "private key");
        RingPedersenSecret ringPedersen = await _ringPedersen.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        using var session = RefreshClientSession.ForImport(curve, d, ringPedersen, _backend, out byte[] seed, out byte[] publicKey);
        var request = new BeginImportRequest
        {
            Curve = c.Name,
            PublicKey = ByteString.CopyFrom(publicKey),
            SeedShare = ByteString.CopyFrom(seed),
            Label = label ?? "",
            Request = ByteString.CopyFrom(session.Start().Encode()),
        };
        CryptographicOperations.ZeroMemory(seed);
        foreach (X509Certificate2 certificate in certificateChain ?? [])
        {
            request.CertificateChain.Add(ByteString.CopyFrom(certificate.RawData));
        }
        MpcKey key = await RunRefresh(session, curve, null, o => _grpc.BeginImportAsync(request, o).ResponseAsync, savePending, openKey: true, cancellationToken).ConfigureAwait(false);
        if (!key.PublicKey.Equals(c.MultiplyBase(d)))
        {
            key.Dispose();
            throw new MpcProtocolException(MpcErrorCode.SignatureCheckFailed, "The imported key's public key differs from the original's.");
        }
        return key;
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

    private async Task<MpcKey> RefreshFrom(ClientKeyShare source, Transport.V1.RefreshPurpose purpose, string label, PendingShareHandler? savePending, CancellationToken cancellationToken, bool openKey = true)
    {
        RingPedersenSecret ringPedersen = await _ringPedersen.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
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
            Label = label ?? "",
            Request = ByteString.CopyFrom(session.Start().Encode()),
        };
        return await RunRefresh(session, source.Curve, source.KeyId, o => _grpc.BeginRefreshAsync(request, o).ResponseAsync, savePending, openKey, cancellationToken).ConfigureAwait(false);
    }

    private async Task<MpcKey> RunRefresh(
        RefreshClientSession session,
        CurveKind curve,
        string? keyId,
        Func<Grpc.Core.CallOptions, Task<BeginRefreshResponse>> begin,
        PendingShareHandler? savePending,
        bool openKey,
        CancellationToken cancellationToken)
    {
        BeginRefreshResponse started = await Call(begin, cancellationToken).ConfigureAwait(false);
        RefreshCommitment commitment = RefreshCommitment.Decode(started.Commitment.Span);
        if (commitment.KeyId != started.KeyId || (keyId is not null && keyId != started.KeyId))
        {
            throw new MpcProtocolException(MpcErrorCode.SessionMismatch, "The server's key id and commitment disagree.");
        }
        RefreshContribution contribution = await Task.Run(() => session.HandleCommitment(commitment), cancellationToken).ConfigureAwait(false);
        ContinueRefreshResponse continued = await Call(o => _grpc.ContinueRefreshAsync(new ContinueRefreshRequest
        {
            KeyId = started.KeyId,
            RefreshId = started.RefreshId,
            Contribution = ByteString.CopyFrom(contribution.Encode()),
        }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        // Checking the new Paillier key's proofs is the client's heaviest step (~0.3 s).
        RefreshClientOutput output = await Task.Run(
            () => session.HandleServerShare(RefreshServerShare.Decode(continued.ServerShare.Span, curve)), cancellationToken).ConfigureAwait(false);
        try
        {
            if (savePending is not null)
            {
                await savePending(output.Share, cancellationToken).ConfigureAwait(false);
            }
            CompleteRefreshResponse completed = await Call(o => _grpc.CompleteRefreshAsync(new CompleteRefreshRequest
            {
                KeyId = started.KeyId,
                RefreshId = started.RefreshId,
                Confirmation = ByteString.CopyFrom(output.Confirmation.Encode()),
            }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
            if (!completed.Key.PublicKey.Span.SequenceEqual(PublicKeyEncoding.ToSubjectPublicKeyInfo(EcCurve.Get(curve), output.Share.PublicKey))
                || completed.Device.DeviceId != output.Share.DeviceId
                || !completed.Device.ShareId.Span.SequenceEqual(output.Share.ShareId))
            {
                throw new MpcProtocolException(MpcErrorCode.SessionMismatch, "The server reports a different key or share than the refresh produced.");
            }
        }
        catch
        {
            output.Share.Dispose();
            throw;
        }
        return openKey ? new MpcKey(output.Share, _options.PrecomputedRandomness) : new MpcKey(output.Share, 0);
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

    public bool Revoked => RevokedAt is not null;

    internal static MpcDeviceInfo From(DeviceInfo info) => new(
        info.DeviceId,
        info.Kind,
        info.Label,
        DateTimeOffset.FromUnixTimeMilliseconds(info.CreatedUnixMs),
        info.RefreshedUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(info.RefreshedUnixMs),
        info.RevokedUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(info.RevokedUnixMs),
        info.MustRefresh,
        Convert.ToHexStringLower(info.ShareId.Span));
}
