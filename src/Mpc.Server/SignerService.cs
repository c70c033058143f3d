using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Mpc.Crypto.Curves;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Protocol;
using Mpc.Transport.V1;

namespace Mpc.Server;

/// <summary>
/// The gRPC front end: authenticates the caller (the token's subject is the user) and forwards each protocol round
/// to the user's grain, which knows only the user's own keys: a round on the user's key costs one grain call. The
/// key-owner grain is asked only when the user's grain answers NotFound, so that a key id of another user is still
/// refused with PermissionDenied (<see cref="OnOwnKey{T}"/>). Any silo can serve any user.
/// </summary>
[Authorize]
internal sealed class SignerService(IGrainFactory grains) : Signer.SignerBase
{
    internal const int MaxUserIdLength = 128;

    public override async Task<BeginKeyGenResponse> BeginKeyGen(BeginKeyGenRequest request, ServerCallContext context)
    {
        string user = UserOf(context);
        // Nothing is stored until CompleteKeyGen: the key id (128 random bits) is claimed durably there.
        string keyId = KeyIds.New();
        byte[] commitment = await UserGrain(user).BeginKeyGen(keyId, request.Request.ToByteArray());
        return new BeginKeyGenResponse { KeyId = keyId, Commitment = ByteString.CopyFrom(commitment), ConfirmLaterSupported = true };
    }

    public override async Task<CompleteKeyGenResponse> CompleteKeyGen(CompleteKeyGenRequest request, ServerCallContext context)
    {
        string user = await RequireOwnerOrUnclaimed(request.KeyId, context);
        if (request.ConfirmLater)
        {
            byte[] serverShare = await UserGrain(user).CompleteKeyGenToConfirm(request.KeyId, request.ClientShare.ToByteArray());
            return new CompleteKeyGenResponse { ServerShare = ByteString.CopyFrom(serverShare), AwaitingConfirmation = true };
        }
        KeyGenCompletion completion = await UserGrain(user).CompleteKeyGen(request.KeyId, request.ClientShare.ToByteArray());
        return new CompleteKeyGenResponse { ServerShare = ByteString.CopyFrom(completion.ServerShare), Key = ToKeyInfo(completion.Key) };
    }

    public override async Task<KeyInfo> ConfirmKeyGen(ConfirmKeyGenRequest request, ServerCallContext context)
    {
        string user = await RequireOwnerOrUnclaimed(request.KeyId, context);
        return ToKeyInfo(await UserGrain(user).ConfirmKeyGen(request.KeyId));
    }

    public override async Task<BeginSignResponse> BeginSign(BeginSignRequest request, ServerCallContext context)
    {
        byte[] commitment = await OnOwnKey(request.KeyId, context, grain => grain.BeginSign(request.KeyId, DeviceOf(request.DeviceId, request.ShareId)));
        return new BeginSignResponse { Commitment = ByteString.CopyFrom(commitment) };
    }

    public override async Task<SignNonceResponse> SignNonce(SignNonceRequest request, ServerCallContext context)
    {
        byte[] opening = await OnOwnKey(request.KeyId, context,
            grain => grain.SignNonce(request.KeyId, DeviceOf(request.DeviceId, request.ShareId), request.Nonce.ToByteArray()));
        return new SignNonceResponse { Opening = ByteString.CopyFrom(opening) };
    }

    public override async Task<SignFinishResponse> SignFinish(SignFinishRequest request, ServerCallContext context)
    {
        SignCompletion completion = await OnOwnKey(request.KeyId, context, grain => grain.SignFinish(
            request.KeyId, request.SessionId.ToByteArray(), request.Ciphertext.ToByteArray(), request.WantNextCommitment));
        return new SignFinishResponse
        {
            Result = ByteString.CopyFrom(completion.Result),
            NextCommitment = completion.NextCommitment is null ? ByteString.Empty : ByteString.CopyFrom(completion.NextCommitment),
        };
    }

    public override async Task<KeyInfo> GetKey(GetKeyRequest request, ServerCallContext context)
    {
        KeySummary? key = await OnOwnKey(request.KeyId, context, grain => grain.GetKey(request.KeyId));
        if (key is null)
        {
            await RequireOwner(request.KeyId, context);
            throw new RpcException(new Status(StatusCode.NotFound, $"Key '{request.KeyId}' does not exist."));
        }
        return ToKeyInfo(key);
    }

    public override async Task<ListKeysResponse> ListKeys(ListKeysRequest request, ServerCallContext context)
    {
        IReadOnlyList<KeySummary> keys = await UserGrain(UserOf(context)).ListKeys();
        var response = new ListKeysResponse();
        response.Keys.AddRange(keys.Select(ToKeyInfo));
        return response;
    }

    public override async Task<KeyInfo> SetCertificateChain(SetCertificateChainRequest request, ServerCallContext context)
    {
        KeySummary key = await OnOwnKey(request.KeyId, context,
            grain => grain.SetCertificateChain(request.KeyId, [.. request.CertificateChain.Select(c => c.ToByteArray())]));
        return ToKeyInfo(key);
    }

    public override async Task<BeginRefreshResponse> BeginRefresh(BeginRefreshRequest request, ServerCallContext context)
    {
        // The one translation on the server: wire enum to the protocol's purpose, which the grain and the session use as is.
        Protocol.Messages.RefreshPurpose? purpose = request.Purpose switch
        {
            Transport.V1.RefreshPurpose.Refresh => Protocol.Messages.RefreshPurpose.Refresh,
            Transport.V1.RefreshPurpose.Enrol => Protocol.Messages.RefreshPurpose.Enrol,
            Transport.V1.RefreshPurpose.Backup => Protocol.Messages.RefreshPurpose.Backup,
            Transport.V1.RefreshPurpose.Restore => Protocol.Messages.RefreshPurpose.Restore,
            _ => null,
        };
        if (purpose is null)
        {
            // Ownership is refused first, as for every other call on a key.
            await RequireOwner(request.KeyId, context);
            throw new RpcException(new Status(StatusCode.InvalidArgument, "purpose must be refresh, enrol, backup or restore."));
        }
        RefreshStarted started = await OnOwnKey(request.KeyId, context, grain => grain.BeginRefresh(request.KeyId,
            new RefreshStart(DeviceOf(request.DeviceId, request.ShareId), purpose.Value, request.Label, request.Request.ToByteArray())));
        return new BeginRefreshResponse { KeyId = request.KeyId, RefreshId = started.RefreshId, Commitment = ByteString.CopyFrom(started.Commitment) };
    }

    public override async Task<BeginRefreshResponse> BeginImport(BeginImportRequest request, ServerCallContext context)
    {
        string user = UserOf(context);
        CurveKind curve;
        try
        {
            curve = EcCurve.Parse(request.Curve);
        }
        catch (Exception e) when (e is ArgumentException or Crypto.MpcProtocolException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "curve must be secp256k1, P-256 or P-384."));
        }
        // As for key generation, the key id is claimed only when the import completes.
        string keyId = KeyIds.New();
        byte[] seed = request.SeedShare.ToByteArray();
        RefreshStarted started = await UserGrain(user).BeginImport(keyId, new ImportStart(
            curve, request.PublicKey.ToByteArray(), seed, [.. request.CertificateChain.Select(c => c.ToByteArray())], request.Label, request.Request.ToByteArray()));
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        return new BeginRefreshResponse { KeyId = keyId, RefreshId = started.RefreshId, Commitment = ByteString.CopyFrom(started.Commitment) };
    }

    public override async Task<ContinueRefreshResponse> ContinueRefresh(ContinueRefreshRequest request, ServerCallContext context)
    {
        string user = await RequireOwnerOrUnclaimed(request.KeyId, context);
        byte[] share = await UserGrain(user).ContinueRefresh(request.KeyId, request.RefreshId, request.Contribution.ToByteArray());
        return new ContinueRefreshResponse { ServerShare = ByteString.CopyFrom(share) };
    }

    public override async Task<CompleteRefreshResponse> CompleteRefresh(CompleteRefreshRequest request, ServerCallContext context)
    {
        string user = await RequireOwnerOrUnclaimed(request.KeyId, context);
        RefreshCompletion completion = await UserGrain(user).CompleteRefresh(request.KeyId, request.RefreshId, request.Confirmation.ToByteArray());
        return new CompleteRefreshResponse { Key = ToKeyInfo(completion.Key), Device = ToDeviceInfo(completion.Device) };
    }

    public override async Task<ListDevicesResponse> ListDevices(ListDevicesRequest request, ServerCallContext context)
    {
        IReadOnlyList<DeviceSummary> devices = await OnOwnKey(request.KeyId, context, grain => grain.ListDevices(request.KeyId));
        var response = new ListDevicesResponse();
        response.Devices.AddRange(devices.Select(ToDeviceInfo));
        return response;
    }

    public override async Task<DeviceInfo> RevokeDevice(RevokeDeviceRequest request, ServerCallContext context)
    {
        return ToDeviceInfo(await OnOwnKey(request.KeyId, context, grain => grain.RevokeDevice(request.KeyId, request.DeviceId)));
    }

    /// <summary>The grain reads an empty device id as the key's first device, "primary".</summary>
    private static DeviceShare DeviceOf(string deviceId, ByteString shareId) => new(deviceId, shareId.ToByteArray());

    internal static DeviceInfo ToDeviceInfo(DeviceSummary device) => new()
    {
        DeviceId = device.DeviceId,
        Kind = device.Kind,
        Label = device.Label,
        CreatedUnixMs = device.CreatedAt.ToUnixTimeMilliseconds(),
        RefreshedUnixMs = device.RefreshedAt?.ToUnixTimeMilliseconds() ?? 0,
        RevokedUnixMs = device.RevokedAt?.ToUnixTimeMilliseconds() ?? 0,
        MustRefresh = device.MustRefresh,
        ShareId = ByteString.CopyFrom(device.ShareId),
    };

    public override async Task<GetAuditResponse> GetAudit(GetAuditRequest request, ServerCallContext context)
    {
        await RequireOwner(request.KeyId, context);
        return AuditMapping.ToResponse(await grains.GetGrain<IKeyAuditGrain>(request.KeyId).Read(request.FromSequence, request.MaxCount));
    }

    private IUserKeysGrain UserGrain(string user) => grains.GetGrain<IUserKeysGrain>(user);

    /// <summary>
    /// Runs one call on the caller's own grain. Key ids are unique across users (claimed at creation, <see cref="IKeyOwnerGrain"/>),
    /// and a grain holds only its user's keys and sessions, so a key id of another user always ends in NotFound there: only
    /// then is the owner asked, and a foreign key is PermissionDenied, an unknown one the grain's NotFound.
    /// </summary>
    private async Task<T> OnOwnKey<T>(string keyId, ServerCallContext context, Func<IUserKeysGrain, Task<T>> call)
    {
        string user = UserOf(context);
        RequireKeyIdFormat(keyId);
        try
        {
            return await call(UserGrain(user));
        }
        catch (SignerException e) when (e.Kind == SignerErrorKind.NotFound)
        {
            await RefuseForeignKey(keyId, user);
            throw;
        }
    }

    /// <summary>The caller's user id and a check that the key exists and is theirs (one owner-grain call).</summary>
    private async Task<string> RequireOwner(string keyId, ServerCallContext context)
    {
        string user = UserOf(context);
        RequireKeyIdFormat(keyId);
        string? owner = await RefuseForeignKey(keyId, user);
        if (owner is null)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"Key '{keyId}' does not exist."));
        }
        return user;
    }

    /// <summary>
    /// The caller's user id for a round of a key generation, import or refresh still in progress: a new key id is claimed
    /// only when it completes, and one claimed meanwhile by another user is refused here (PermissionDenied) before any work.
    /// </summary>
    private async Task<string> RequireOwnerOrUnclaimed(string keyId, ServerCallContext context)
    {
        string user = UserOf(context);
        RequireKeyIdFormat(keyId);
        await RefuseForeignKey(keyId, user);
        return user;
    }

    /// <summary>PermissionDenied when another user owns the key id; otherwise returns its owner (null when unclaimed).</summary>
    private async Task<string?> RefuseForeignKey(string keyId, string user)
    {
        string? owner = await grains.GetGrain<IKeyOwnerGrain>(keyId).GetOwner();
        if (owner is not null && owner != user)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Key '{keyId}' belongs to another user."));
        }
        return owner;
    }

    private static void RequireKeyIdFormat(string keyId)
    {
        if (!KeyIds.IsValid(keyId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, KeyIds.Invalid));
        }
    }

    private static string UserOf(ServerCallContext context)
    {
        string? user = context.GetHttpContext().User.FindFirst("sub")?.Value;
        if (string.IsNullOrWhiteSpace(user) || user.Length > MaxUserIdLength)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "The token has no usable subject."));
        }
        return user;
    }

    internal static KeyInfo ToKeyInfo(KeySummary key)
    {
        EcCurve curve = EcCurve.Get(key.Curve);
        return new KeyInfo
        {
            KeyId = key.KeyId,
            Curve = curve.Name,
            PublicKey = ByteString.CopyFrom(key.PublicKey),
            PublicKeyPem = new string(System.Security.Cryptography.PemEncoding.Write("PUBLIC KEY", key.PublicKey)) + "\n",
            Status = key.Status == Grains.Abstractions.KeyStatus.Frozen ? Transport.V1.KeyStatus.Frozen : Transport.V1.KeyStatus.Active,
            CreatedUnixMs = key.CreatedAt.ToUnixTimeMilliseconds(),
            Imported = key.Imported,
            CertificateChain = { key.CertificateChain.Select(ByteString.CopyFrom) },
        };
    }
}
