using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.Diagnostics;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Mpc.Transport.V1;

namespace Mpc.Client;

/// <summary>
/// The client (P2) of the signing service: creates split keys and signs with them. The server never sees
/// the client's share; every server message is checked before it is used, and every signature is verified
/// before it is returned. Thread-safe; share one instance per server.
/// </summary>
public sealed partial class MpcSignerClient : IMpcSignerClient
{
    /// <summary>Commitments tried per signature: one opened first by a concurrent caller, or expired, costs one more BeginSign.</summary>
    private const int MaxSessionAttempts = 8;

    /// <summary>Message size limits of every channel the client makes (its own, or AddMpcSigner's).</summary>
    internal const int MaxReceiveMessageSize = 1024 * 1024, MaxSendMessageSize = 512 * 1024;

    private readonly GrpcChannel? _ownedChannel; // null when the caller or IHttpClientFactory owns the connection
    private readonly string _target;
    private readonly Signer.SignerClient _grpc;
    private readonly SignerAdmin.SignerAdminClient _admin;
    private readonly Func<CancellationToken, ValueTask<string>> _token;
    private readonly MpcSignerClientOptions _options;
    private readonly IBigNumBackend _backend;
    private readonly SemaphoreSlim _deviceProfileLock = new(1, 1);
    private RingPedersenSecret? _deviceParameters; // loaded or created once per instance, under _deviceProfileLock
    private readonly List<DeviceProfile> _ownedProfiles = []; // disposed with the client
    private readonly bool _insecure; // set by the Uri constructors and AddMpcSigner only
    private readonly ILogger? _logger;

    /// <summary>
    /// Connects to <paramref name="server"/> (https://signer.example:7443; http only to loopback unless
    /// <see cref="MpcSignerClientOptions.AllowInsecureHttp"/>) with a fixed bearer token.
    /// </summary>
    /// <exception cref="ArgumentException">A plain http address of a host that is not loopback, without <see cref="MpcSignerClientOptions.AllowInsecureHttp"/>.</exception>
    public MpcSignerClient(Uri server, string token, MpcSignerClientOptions? options = null)
        : this(server, _ => ValueTask.FromResult(token), options)
    {
    }

    /// <summary>Connects with a token provider, called before every request (so tokens can be refreshed).</summary>
    /// <exception cref="ArgumentException">A plain http address of a host that is not loopback, without <see cref="MpcSignerClientOptions.AllowInsecureHttp"/>.</exception>
    public MpcSignerClient(Uri server, Func<CancellationToken, ValueTask<string>> tokenProvider, MpcSignerClientOptions? options = null)
        : this(CreateChannel(TransportSecurity.Check(server, options), options), tokenProvider, options, ownsChannel: true)
    {
        _insecure = TransportSecurity.IsInsecure(server);
    }

    /// <summary>
    /// Uses an existing channel (the caller disposes it). The channel does not reveal its scheme, so the http rule
    /// of the other constructors cannot be applied here: the caller answers for the channel's transport security.
    /// </summary>
    public MpcSignerClient(GrpcChannel channel, Func<CancellationToken, ValueTask<string>> tokenProvider, MpcSignerClientOptions? options = null)
        : this(channel, tokenProvider, options, ownsChannel: false)
    {
    }

    private MpcSignerClient(GrpcChannel channel, Func<CancellationToken, ValueTask<string>> tokenProvider, MpcSignerClientOptions? options, bool ownsChannel)
        : this((channel ?? throw new ArgumentNullException(nameof(channel))).CreateCallInvoker(), channel.Target, tokenProvider, options)
    {
        _ownedChannel = ownsChannel ? channel : null;
    }

    /// <summary>The one place every constructor ends: all calls go through the telemetry interceptor (<see cref="ClientTelemetry"/>).</summary>
    private MpcSignerClient(CallInvoker invoker, string target, Func<CancellationToken, ValueTask<string>> tokenProvider, MpcSignerClientOptions? options)
    {
        _logger = options?.LoggerFactory?.CreateLogger<MpcSignerClient>();
        _target = target;
        CallInvoker observed = invoker.Intercept(new ClientTelemetryInterceptor(_logger));
        _grpc = new Signer.SignerClient(observed);
        _admin = new SignerAdmin.SignerAdminClient(observed);
        _token = tokenProvider;
        _options = options ?? new MpcSignerClientOptions();
        _backend = (_options.Arithmetic ?? MpcArithmetic.Default).Backend;
    }

    /// <summary>
    /// Runs distributed key generation for a new key on <paramref name="curve"/>. The server stores the key only after
    /// this client has checked the server's proofs with its device parameters, so a device profile that does not open
    /// (a mistyped passphrase), a failed check or a lost reply leaves no key behind, even though the round trips run
    /// while the profile is being opened. (A server that predates confirm_later stores the key as it answers the second
    /// round trip.) A caller that keeps the share somewhere durable passes a handler to
    /// <see cref="CreateKeyAsync(CurveKind, PendingShareHandler?, CancellationToken)"/>, so that a crash after the
    /// server stored the key cannot leave it without a share.
    /// </summary>
    public Task<MpcKey> CreateKeyAsync(CurveKind curve, CancellationToken cancellationToken = default) =>
        CreateKeyAsync(curve, savePending: null, cancellationToken);

    /// <summary>
    /// Key generation as <see cref="CreateKeyAsync(CurveKind, CancellationToken)"/>, with <paramref name="savePending"/>
    /// called once with the new key's checked share before this client asks the server to store the key
    /// (ConfirmKeyGen): persist it there, and a crash, a kill or a lost reply after that point leaves a share that
    /// <see cref="ConfirmKeyAsync"/> settles. If the handler throws, nothing is confirmed: the key is stored only if the
    /// share the handler kept is confirmed later, and otherwise expires. (A server that predates confirm_later stores
    /// the key before the share is checked: the handler is not called, and the share comes only with the returned key.)
    /// </summary>
    public Task<MpcKey> CreateKeyAsync(CurveKind curve, PendingShareHandler? savePending, CancellationToken cancellationToken = default) =>
        Checked(() => CreateKeyCore(curve, savePending, cancellationToken));

    private async Task<MpcKey> CreateKeyCore(CurveKind curve, PendingShareHandler? savePending, CancellationToken cancellationToken)
    {
        using var clock = new OperationClock("keygen", _logger, curve);
        // The device's public parameters (this client's cache, or the profile's clear header) are read before any
        // opening work starts, as for a refresh (RefreshOpeningCore): that work blocks threads on a small machine.
        RingPedersenParameters? early = await PublicDeviceParametersAsync(cancellationToken).ConfigureAwait(false);
        // Loading the profile is an Argon2id: it runs on another thread while the round trips are in flight. With no
        // clear header to start from it is needed for round 3 (Πprm, or a new device's profile), as before.
        Task<RingPedersenSecret> deviceSetup = Task.Run(
            () => clock.DeviceSetup(() => DeviceParametersAsync(cancellationToken, mayCreate: early is null)), cancellationToken);
        using var session = new KeyGenClientSession(curve, _backend);
        BeginKeyGenResponse begin;
        bool overlap;
        CompleteKeyGenResponse complete;
        try
        {
            begin = await clock.Server(() => Call(options => _grpc.BeginKeyGenAsync(
                new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) }, options).ResponseAsync, cancellationToken)).ConfigureAwait(false);
            clock.KeyId = begin.KeyId;
            KeyGenCommitment commitment = KeyGenCommitment.Decode(begin.Commitment.Span);
            if (commitment.KeyId != begin.KeyId)
            {
                throw new MpcProtocolException(MpcErrorCode.SessionMismatch, "The server's key id and commitment disagree.");
            }
            // Round 3 needs only the public parameters when the server already holds them as verified (no Πprm), so it
            // may go out before the profile has opened, but only to a server that keeps the key unstored until it is
            // confirmed: one that predates confirm_later would store it at once, and gets round 3 after the opening.
            overlap = early is not null && begin.ConfirmLaterSupported && !deviceSetup.IsCompleted && commitment.Names(early);
            KeyGenClientShare share;
            if (overlap)
            {
                share = await clock.ClientProofs(() => Task.Run(() => session.HandleCommitment(commitment, early!), cancellationToken)).ConfigureAwait(false);
            }
            else
            {
                RingPedersenSecret ringPedersen = await clock.AfterOverlap(deviceSetup).ConfigureAwait(false);
                share = await clock.ClientProofs(() => Task.Run(() => session.HandleCommitment(commitment, ringPedersen), cancellationToken)).ConfigureAwait(false);
            }
            complete = await clock.Server(() => CompleteKeyGen(
                // Confirmed later whenever the server can: a lost reply, a failed check of message 4 or a profile that
                // does not open then leaves nothing stored, where a key stored at once would have no device share.
                new CompleteKeyGenRequest { KeyId = begin.KeyId, ClientShare = ByteString.CopyFrom(share.Encode()), ConfirmLater = begin.ConfirmLaterSupported },
                cancellationToken)).ConfigureAwait(false);
        }
        catch
        {
            // Not left running unobserved: its own failure (a refused profile) is the more useful error to report.
            await deviceSetup.ConfigureAwait(false);
            throw;
        }
        if (overlap)
        {
            // The profile's failure (a wrong passphrase, another device's profile) ends the operation here: the server's
            // share waits unconfirmed and expires, and nothing is stored.
            session.Supply(await clock.AfterOverlap(deviceSetup).ConfigureAwait(false));
        }
        // Verifying the server's modulus and range proofs is the client's heaviest step.
        ClientKeyShare clientShare = await clock.Verification(() => Task.Run(
            () => session.HandleServerShare(KeyGenServerShare.Decode(complete.ServerShare.Span, curve)), cancellationToken)).ConfigureAwait(false);
        try
        {
            // A server that stored the key already says so by not awaiting confirmation.
            KeyInfo? stored = complete.Key;
            if (complete.AwaitingConfirmation)
            {
                // Kept by the caller before the server stores the key: from here on a crash leaves the share beside the key.
                if (savePending is not null)
                {
                    await savePending(clientShare, cancellationToken).ConfigureAwait(false);
                }
                try
                {
                    stored = await clock.Server(() => ConfirmKeyGen(begin.KeyId, cancellationToken)).ConfigureAwait(false);
                }
                catch (Exception e) when (!MpcOutcomeUnknownException.ProvesNothingStored(e))
                {
                    // The server may hold the key now, and this share is the only one that can sign with it: handed to the
                    // caller to keep and settle (ConfirmKeyAsync), not destroyed below.
                    throw new MpcKeyGenOutcomeUnknownException(begin.KeyId, clientShare, e);
                }
            }
            RequireSamePublicKey(stored, clientShare);
        }
        catch (Exception e) when (e is not MpcKeyGenOutcomeUnknownException)
        {
            clientShare.Dispose();
            throw;
        }
        clock.Report(_options.Timings);
        return new MpcKey(clientShare, _options.PrecomputedRandomness);
    }

    /// <summary>
    /// Settles a key generation that ended in <see cref="MpcKeyGenOutcomeUnknownException"/>: asks the server to store the
    /// key of <paramref name="share"/> if its key generation still awaits the confirmation, or to say it already holds
    /// it, and checks that the server's public key is the share's. Safe to call again. On success the returned key owns
    /// the share; on failure the caller still does.
    /// </summary>
    /// <exception cref="MpcSignerException">
    /// <see cref="MpcErrorReason.NotFound"/>: the server never stored the key and no longer can (its key generation
    /// expired unconfirmed): the share signs nothing and may be deleted. Other failures leave the outcome open.
    /// </exception>
    public Task<MpcKey> ConfirmKeyAsync(ClientKeyShare share, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(share);
        return Checked(async () =>
        {
            KeyInfo stored = await ConfirmKeyGen(share.KeyId, cancellationToken).ConfigureAwait(false);
            RequireSamePublicKey(stored, share);
            return new MpcKey(share, _options.PrecomputedRandomness);
        });
    }

    private static void RequireSamePublicKey(KeyInfo? stored, ClientKeyShare share)
    {
        if (stored is null || !stored.PublicKey.Span.SequenceEqual(share.SubjectPublicKeyInfo))
        {
            throw new MpcProtocolException(MpcErrorCode.SignatureCheckFailed, "The server reports a different public key than the protocol produced.");
        }
    }

    /// <summary>
    /// CompleteKeyGen, sent again while the server refuses it because other keys of this user await their confirmation
    /// (<see cref="RetryPolicy.KeyGenCompletion"/>). Any other refusal ends the attempt.
    /// </summary>
    private Task<CompleteKeyGenResponse> CompleteKeyGen(CompleteKeyGenRequest request, CancellationToken cancellationToken) =>
        RetryPolicy.KeyGenCompletion.RunAsync(
            token => Call(options => _grpc.CompleteKeyGenAsync(request, options).ResponseAsync, token),
            (_, wait) => _logger?.LogInformation("Completing key {KeyId} waits {Wait} for other keys' confirmations", request.KeyId, wait),
            cancellationToken);

    /// <summary>
    /// ConfirmKeyGen, asked again after a failure that does not prove the server stored nothing (a lost reply, a
    /// storage error that may pass; <see cref="RetryPolicy.KeyGenConfirmation"/>): the server answers a repeated
    /// confirmation with the key it stored, so the share the device already holds is not thrown away for a transient error.
    /// </summary>
    private Task<KeyInfo> ConfirmKeyGen(string keyId, CancellationToken cancellationToken) =>
        RetryPolicy.KeyGenConfirmation.RunAsync(
            token => Call(options => _grpc.ConfirmKeyGenAsync(new ConfirmKeyGenRequest { KeyId = keyId }, options).ResponseAsync, token),
            (failure, _) => _logger?.LogWarning("Confirming key {KeyId} failed ({Status}); asking again", keyId, failure.Status),
            cancellationToken);

    /// <summary>Wraps a share loaded from storage so it can sign.</summary>
    public MpcKey OpenKey(ClientKeyShare share) => new(share, _options.PrecomputedRandomness);

    /// <summary>
    /// Opens the key of a key file for signing while the file is still being decrypted: <paramref name="header"/> is its
    /// clear header (<see cref="KeyStore.ClientKeyFile.ReadPublicInfo"/>), <paramref name="opening"/> its decryption
    /// running meanwhile (as for <see cref="RefreshKeyFileAsync"/>). The connection is made and the server's first
    /// signing commitment fetched during the opening (asking for one needs only the header's key, device and share id),
    /// so the key's first signature takes one round trip fewer afterwards. The commitment is kept only if the opened
    /// share is the one the header named (a version 1 header names none). The returned key owns the share.
    /// </summary>
    /// <exception cref="MpcSignerException">The opening's failure (a wrong passphrase, a damaged file).</exception>
    public async Task<MpcKey> OpenKeyFileAsync(KeyStore.KeyFileInfo header, Task<ClientKeyShare> opening, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(opening);
        Task<byte[]>? prefetch = header is { DeviceId: { } deviceId } && header.ShareIdBytes() is { } shareId
            ? Commitment(header.KeyId, deviceId, shareId, cancellationToken)
            : null;
        ClientKeyShare share;
        try
        {
            share = await opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (prefetch is not null)
            {
                await ((Task)prefetch).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            throw;
        }
        byte[]? commitment = null;
        try
        {
            commitment = prefetch is null ? null : await prefetch.ConfigureAwait(false);
        }
        catch (MpcSignerException)
        {
            // The key's first signature asks again, and reports the refusal (a frozen key, a revoked device) itself.
        }
        catch
        {
            share.Dispose();
            throw;
        }
        MpcKey key = OpenKey(share);
        if (commitment is not null && share.KeyId == header.KeyId && share.DeviceId == header.DeviceId
            && Convert.ToHexStringLower(share.ShareId) == header.ShareId)
        {
            key.AddCommitment(commitment);
        }
        return key;
    }

    private async Task<byte[]> Commitment(string keyId, string deviceId, byte[] shareId, CancellationToken cancellationToken)
    {
        BeginSignResponse begin = await Call(o => _grpc.BeginSignAsync(new BeginSignRequest
        {
            KeyId = keyId,
            DeviceId = deviceId,
            ShareId = ByteString.CopyFrom(shareId),
        }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        return begin.Commitment.ToByteArray();
    }

    /// <summary>
    /// Signs a 32-, 48- or 64-byte digest. Two round trips when the key holds a commitment from its previous
    /// signature, three otherwise. The result is verified against the key's public key before it is returned.
    /// s is in the lower half of the group order unless <see cref="MpcSignOptions.LowS"/> is false.
    /// </summary>
    /// <exception cref="MpcSignerException">
    /// <see cref="MpcErrorReason.InvalidDigest"/>: the digest has another length; or
    /// <see cref="MpcErrorReason.InvalidRingPedersenParameters"/>: the share predates signing proofs
    /// (<see cref="ClientKeyShare.CanSign"/> false); refresh it with <see cref="RefreshKeyAsync"/> first. Nothing is sent.
    /// </exception>
    public Task<MpcSignature> SignDigestAsync(MpcKey key, ReadOnlyMemory<byte> digest, MpcSignOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Checked(async () => new MpcSignature(key.Curve, await SignCore(key, digest, options, cancellationToken).ConfigureAwait(false)));
    }

    private async Task<EcdsaSignature> SignCore(MpcKey key, ReadOnlyMemory<byte> digest, MpcSignOptions? options, CancellationToken cancellationToken)
    {
        // The clock starts first so a call refused before anything is sent (a digest of the wrong length) is a failed sign in traces too.
        using var clock = new OperationClock("sign", _logger, key.Curve, key.KeyId);
        Digest parsed = Digest.Parse(digest.Span);
        key.Share.RequireSigningParameters();
        bool lowS = (options ?? MpcSignOptions.Default).LowS;
        byte[]? commitment = key.TakeCommitment();
        for (int attempt = 1; ; attempt++)
        {
            commitment ??= await Commitment(key.KeyId, key.Share.DeviceId, key.Share.ShareId, cancellationToken).ConfigureAwait(false);
            EcdsaSignature? signature = await SignWith(key, commitment, parsed, lowS, mayRestart: attempt < MaxSessionAttempts, cancellationToken).ConfigureAwait(false);
            if (signature is not null)
            {
                clock.Report(null);
                return signature;
            }
            commitment = null;
        }
    }

    /// <summary>Hashes <paramref name="data"/> (SHA-256; SHA-384 on P-384) and signs the digest.</summary>
    public Task<MpcSignature> SignDataAsync(MpcKey key, ReadOnlyMemory<byte> data, MpcSignOptions? options = null, CancellationToken cancellationToken = default) =>
        SignDigestAsync(key, HashFor(key.Curve, data.Span), options, cancellationToken);

    /// <summary>The digest this client signs for <paramref name="data"/> on <paramref name="curve"/>.</summary>
    public static byte[] HashFor(CurveKind curve, ReadOnlySpan<byte> data) =>
        curve == CurveKind.P384 ? SHA384.HashData(data) : SHA256.HashData(data);

    /// <summary>The server's record of a key: public key and status (frozen or active).</summary>
    public async Task<MpcKeyInfo> GetKeyAsync(string keyId, CancellationToken cancellationToken = default) =>
        MpcKeyInfo.From(await Call(o => _grpc.GetKeyAsync(new GetKeyRequest { KeyId = keyId }, o).ResponseAsync, cancellationToken).ConfigureAwait(false));

    /// <summary>Every key of the authenticated user.</summary>
    public async Task<IReadOnlyList<MpcKeyInfo>> ListKeysAsync(CancellationToken cancellationToken = default)
    {
        ListKeysResponse response = await Call(o => _grpc.ListKeysAsync(new ListKeysRequest(), o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        return [.. response.Keys.Select(MpcKeyInfo.From)];
    }

    /// <summary>An <see cref="System.Security.Cryptography.ECDsa"/> whose signing runs the two-party protocol.</summary>
    public MpcECDsa CreateECDsa(MpcKey key) => new(this, key);

    /// <summary>Closes the channel when this client made it, and zeroes the device parameters it created.</summary>
    public void Dispose()
    {
        _ownedChannel?.Dispose();
        lock (_ownedProfiles)
        {
            foreach (DeviceProfile profile in _ownedProfiles)
            {
                profile.Dispose();
            }
            _ownedProfiles.Clear();
        }
    }

    /// <summary>
    /// One signature from a server commitment; null when the server no longer knows the commitment at SignNonce
    /// (expired, restarted, or opened first by another caller it was also handed to) and <paramref name="mayRestart"/>.
    /// Only then: nothing of the server's nonce was used, and a fresh BeginSign is safe. A NotFound at SignFinish
    /// is never retried here.
    /// </summary>
    private async Task<EcdsaSignature?> SignWith(MpcKey key, byte[] commitmentBytes, Digest digest, bool lowS, bool mayRestart, CancellationToken cancellationToken)
    {
        CurveKind curve = key.Curve;
        SignCommitment commitment = SignCommitment.Decode(commitmentBytes);
        var session = new SignClientSession(key.Share, digest, lowS, key.TakeRandomness());
        SignNonce nonce = session.HandleCommitment(commitment);
        SignNonceResponse opened;
        try
        {
            opened = await Call(o => _grpc.SignNonceAsync(
                new SignNonceRequest
                {
                    KeyId = key.KeyId,
                    Nonce = ByteString.CopyFrom(nonce.Encode()),
                    DeviceId = key.Share.DeviceId,
                    ShareId = ByteString.CopyFrom(key.Share.ShareId),
                }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        }
        catch (MpcSignerException e) when (e.Status == StatusCode.NotFound && mayRestart)
        {
            return null;
        }
        SignCiphertext ciphertext = session.HandleOpening(SignOpening.Decode(opened.Opening.Span, curve));
        SignFinishResponse finished = await Call(o => _grpc.SignFinishAsync(new SignFinishRequest
        {
            KeyId = key.KeyId,
            SessionId = ByteString.CopyFrom(commitment.ServerSessionId),
            Ciphertext = ByteString.CopyFrom(ciphertext.Encode()),
            WantNextCommitment = true,
        }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        if (!finished.NextCommitment.IsEmpty)
        {
            key.AddCommitment(finished.NextCommitment.ToByteArray());
        }
        return session.HandleResult(SignResult.Decode(finished.Result.Span, curve));
    }

    /// <summary>
    /// Runs an operation so that a protocol check failing on this side (a proof of the server's, a malformed reply, the
    /// final signature check) reaches the caller as <see cref="MpcSignerException"/>, like a server refusal.
    /// </summary>
    private static async Task<T> Checked<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (MpcProtocolException e)
        {
            throw MpcSignerException.From(e);
        }
    }

    private async Task<T> Call<T>(Func<CallOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        if (_insecure)
        {
            TransportSecurity.WarnInsecure(_logger, _target);
        }
        string token = await _token(cancellationToken).ConfigureAwait(false);
        var headers = new Metadata { { "authorization", "Bearer " + token } };
        var callOptions = new CallOptions(headers, DateTime.UtcNow.Add(_options.CallTimeout), cancellationToken);
        try
        {
            return await call(callOptions).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
        {
            throw MpcSignerException.From(e);
        }
    }

    private static GrpcChannel CreateChannel(Uri server, MpcSignerClientOptions? options) => GrpcChannel.ForAddress(server, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = MaxReceiveMessageSize,
        MaxSendMessageSize = MaxSendMessageSize,
        HttpHandler = TransportSecurity.Handler(options),
        // A handler made from TrustedCaCertificates is the client's; one the caller passed stays the caller's.
        DisposeHttpClient = options?.HttpHandler is null,
        LoggerFactory = options?.LoggerFactory,
    });
}
