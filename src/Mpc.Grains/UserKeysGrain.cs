using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Grains.Audit;
using Mpc.Grains.Sealing;
using Mpc.Grains.Telemetry;
using Mpc.Protocol;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Orleans.Storage;

namespace Mpc.Grains;

/// <summary>
/// The server's side of one user's keys. Shares are sealed before they reach storage and unsealed
/// into memory on first use. Protocol sessions, and with them every nonce, exist only in this
/// activation's memory for a short lifetime and are consumed by one pass through their rounds.
/// A failed final signature check freezes the key in storage before the caller hears anything; no c3 is
/// decrypted before a final-check marker is stored (<see cref="KeyStatusRecord"/>), so even a freeze that cannot
/// be written holds for every activation.
/// </summary>
[GrainType(GrainTypes.UserKeys)]
public sealed partial class UserKeysGrain(
    [PersistentState("keys", StorageNames.Keys)] IPersistentState<UserKeysState> state,
    [PersistentState("status", StorageNames.Keys)] IPersistentState<KeyStatusState> status,
    ShareSealer sealer,
    IBigNumBackend backend,
    IOptions<SignerOptions> options,
    TimeProvider time,
    SignerMetrics metrics,
    IKeyAuditTrail audit,
    ILogger<UserKeysGrain> logger) : Grain, IUserKeysGrain, ISigningSessionsGrain
{
    /// <summary>Key generations one user may have begun and not completed (each lives <see cref="SignerOptions.KeyGenSessionLifetime"/>).</summary>
    private const int MaxPendingKeyGensPerUser = 8;

    /// <summary>The seal purpose of shares stored before devices existed (one per key).</summary>
    private const string LegacySharePurpose = "server-key-share";

    private readonly SignerOptions _options = options.Value;
    private readonly Dictionary<string, PendingKeyGen> _keyGens = [];
    private readonly SigningSessions _signs = new(options.Value, time);
    private readonly Dictionary<string, ServerKeyShare> _shares = [];
    private readonly SigningRateLimiter _rate = new(options.Value, time);
    private readonly KeyStatusRecord _status = new(status, time, logger);
    private IGrainTimer? _markerClear;

    private string UserId => this.GetPrimaryKeyString();

    /// <summary>The server's pool of ready Paillier keys when the host registers one; inline generation otherwise.</summary>
    private IPaillierKeySource PaillierKeys => ServiceProvider.GetService(typeof(IPaillierKeySource)) as IPaillierKeySource ?? FreshPaillierKeys.Instance;

    public Task<byte[]> BeginKeyGen(string keyId, byte[] request) => Observe(null, () => BeginKeyGenCore(keyId, request));

    public Task<KeyGenCompletion> CompleteKeyGen(string keyId, byte[] clientShare) => Observe(null, () => CompleteKeyGenCore(keyId, clientShare));

    public Task<byte[]> BeginSign(string keyId, DeviceShare device) => Observe("commit", () => BeginSignCore(keyId, device));

    public Task<byte[]> SignNonce(string keyId, DeviceShare device, byte[] nonce) => Observe("nonce", () => SignNonceCore(keyId, device, nonce));

    public Task<SignCompletion> SignFinish(string keyId, byte[] sessionId, byte[] ciphertext, bool wantNextCommitment) =>
        Observe("finish", () => SignFinishCore(keyId, sessionId, ciphertext, wantNextCommitment));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        MigrateLegacyShares();
        // Markers left by an activation that died mid-check (or could not store its freeze): re-run their checks.
        await RecoverMarkersAsync();
        metrics.GrainActivated();
        await base.OnActivateAsync(cancellationToken);
    }

    private Task<byte[]> BeginKeyGenCore(string keyId, byte[] request)
    {
        RequireKeyId(keyId);
        if (state.State.Keys.ContainsKey(keyId) || _keyGens.ContainsKey(keyId))
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key '{keyId}' already exists.");
        }
        PurgeExpired();
        if (_keyGens.Count >= MaxPendingKeyGensPerUser)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"{MaxPendingKeyGensPerUser} key generations are in progress for this user; finish them or let them expire.");
        }
        UserStateLimits.RequireKeyCapacity(state.State, _keyGens.Count + _refreshes.Values.Count(r => r.Purpose == RefreshPurpose.Import));
        KeyGenRequest decoded = Decode(() => KeyGenRequest.Decode(request));
        var session = new KeyGenServerSession(keyId, backend, _options.PaillierModulusBits) { PaillierKeys = PaillierKeys };
        KeyGenCommitment commitment = Protocol(() => session.HandleRequest(decoded));
        _keyGens[keyId] = new PendingKeyGen(session, decoded.Curve, time.GetUtcNow() + _options.KeyGenSessionLifetime);
        return Task.FromResult(commitment.Encode());
    }

    private async Task<KeyGenCompletion> CompleteKeyGenCore(string keyId, byte[] clientShare)
    {
        RequireKeyId(keyId);
        PurgeExpired();
        if (!_keyGens.Remove(keyId, out PendingKeyGen? pending))
        {
            throw new SignerException(SignerErrorKind.NotFound, "Unknown, expired or finished key generation session.");
        }
        using KeyGenServerSession session = pending.Session;
        KeyGenClientShare decoded = Decode(() => KeyGenClientShare.Decode(clientShare, pending.Curve));
        // Paillier key generation and the proofs take about a second: keep them off the silo's scheduler threads.
        KeyGenServerOutput output = await Task.Run(() => Protocol(() => session.HandleClientShare(decoded)));

        EcCurve curve = EcCurve.Get(pending.Curve);
        try
        {
            await ClaimKeyId(keyId);
        }
        catch
        {
            output.Share.Dispose();
            throw;
        }
        (StoredKey stored, StoredDevice device) = await StoreNewKey(keyId, output.Share, "", imported: false, []);
        audit.Record(keyId, AuditEventKind.KeyGen, device.DeviceId, default, AuditOutcomes.Ok, curve.Name);
        logger.LogInformation("Created key {KeyId} on {Curve}", keyId, curve.Name);
        return new KeyGenCompletion(output.Message.Encode(), Summarize(stored));
    }

    private async Task<byte[]> BeginSignCore(string keyId, DeviceShare device)
    {
        StoredKey key = RequireSignableKey(keyId);
        StoredDevice stored = RequireSigningDevice(key, device);
        PurgeExpired();
        SignServerSession session = (await _signs.CommitmentFor(keyId, stored.DeviceId, () => OpenSession(key, stored)))!;
        return session.Commitment.Encode();
    }

    public Task<SigningSessionCounts> GetSigningSessionCounts(string keyId) => Task.FromResult(_signs.Counts(keyId));

    private Task<byte[]> SignNonceCore(string keyId, DeviceShare device, byte[] nonce)
    {
        StoredKey key = RequireSignableKey(keyId);
        StoredDevice stored = RequireSigningDevice(key, device);
        SignNonce decoded = Decode(() => Mpc.Protocol.Messages.SignNonce.Decode(nonce, (CurveKind)key.Curve));
        string sessionId = Convert.ToHexStringLower(decoded.ServerSessionId);
        // An opened session is not found: its one nonce round has run (or runs now) for whoever opened it first.
        PendingSign pending = _signs.Unopened(sessionId, keyId) ?? throw SignerErrors.UnknownSession();
        if (pending.DeviceId != stored.DeviceId)
        {
            // A commitment made for one device's pair must not be completed with another device's share.
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"This signing session belongs to device '{ClientText.Quote(pending.DeviceId)}', not '{ClientText.Quote(stored.DeviceId)}'; start a new one.");
        }
        int opened = _signs.OpenedCount(keyId);
        if (opened >= _options.MaxOpenSessionsPerKey)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"Key '{keyId}' has {_options.MaxOpenSessionsPerKey} signatures in progress; finish them or wait a few seconds for them to expire.");
        }
        try
        {
            _rate.Check(keyId, opened);
        }
        catch (SignerException)
        {
            // Refused before the nonce is opened, so the session is burnt without spending anything.
            _signs.Remove(sessionId);
            audit.Record(keyId, AuditEventKind.Sign, stored.DeviceId, decoded.Digest, AuditOutcomes.RateLimited);
            throw;
        }
        _signs.MarkOpened(pending);
        try
        {
            byte[] opening = pending.Session.HandleNonce(decoded).Encode();
            pending.NonceAt = SignerMetrics.Start();
            pending.Digest = decoded.Digest;
            return Task.FromResult(opening);
        }
        catch (MpcProtocolException e)
        {
            // A refused round burns the session: its nonce is never offered again.
            _signs.Remove(sessionId);
            throw SignerErrors.From(e);
        }
    }

    private async Task<SignCompletion> SignFinishCore(string keyId, byte[] sessionId, byte[] ciphertext, bool wantNextCommitment)
    {
        StoredKey key = RequireSignableKey(keyId);
        string id = sessionId.Length == ProtocolLimits.ServerSessionIdLength ? Convert.ToHexStringLower(sessionId) : "";
        PendingSign pending = _signs.Find(id, keyId) ?? throw SignerErrors.UnknownSession();
        SignCiphertext decoded = Decode(() => SignCiphertext.Decode(ciphertext, (CurveKind)key.Curve, pending.Session.PaillierModulusBits));
        // The session is spent whatever happens below: its nonce never meets a second c3.
        _signs.Remove(id);
        FinalCheckRecord record;
        try
        {
            // The proof first: a refused c3 costs no storage write, leaves no marker and decrypts nothing.
            record = pending.Session.VerifyCiphertext(decoded);
        }
        catch (MpcProtocolException e)
        {
            bool proofFailed = e.Code == MpcErrorCode.ProofFailed;
            if (proofFailed)
            {
                logger.LogWarning("Refused a signing ciphertext without a valid proof for key {KeyId} (device {DeviceId})", keyId, pending.DeviceId);
            }
            audit.Record(keyId, AuditEventKind.Sign, pending.DeviceId, pending.Digest, proofFailed ? AuditOutcomes.ProofFailed : AuditOutcomes.Refused, e.Code.ToString());
            throw proofFailed ? SignerErrors.CiphertextProofFailed(e) : SignerErrors.From(e);
        }
        string checkId = await BeginFinalCheck(key, pending, record);
        SignServerOutcome outcome;
        try
        {
            metrics.FinalCheckStarted();
            outcome = pending.Session.DecryptAndVerify();
        }
        catch (MpcProtocolException e)
        {
            // Refused before a decrypted value was used: nothing was learnt, so the marker may go.
            FinalCheckFinished(checkId);
            audit.Record(keyId, AuditEventKind.Sign, pending.DeviceId, pending.Digest, AuditOutcomes.Refused, e.Code.ToString());
            throw SignerErrors.From(e);
        }
        if (outcome.KeyMustBeFrozen)
        {
            try
            {
                await Freeze(keyId, pending.DeviceId, "final signature check failed");
            }
            finally
            {
                audit.Record(keyId, AuditEventKind.Freeze, pending.DeviceId, pending.Digest, AuditOutcomes.Frozen, "final signature check failed");
            }
            throw SignerErrors.Frozen(keyId);
        }
        FinalCheckFinished(checkId);
        metrics.Signed(EcCurve.NameOf((CurveKind)key.Curve), SignerMetrics.Since(pending.NonceAt ?? SignerMetrics.Start()));
        _rate.Released(keyId);
        audit.Record(keyId, AuditEventKind.Sign, pending.DeviceId, pending.Digest, AuditOutcomes.Ok);
        byte[]? next = null;
        if (wantNextCommitment && key.Devices.TryGetValue(pending.DeviceId, out StoredDevice? device) && !device.Revoked)
        {
            // One of the device's unopened commitments if it already holds the maximum, so a caller that
            // throws the next commitment away (a one-shot process) never makes the pool grow.
            next = (await _signs.CommitmentFor(keyId, device.DeviceId, () => OpenSession(key, device)))!.Commitment.Encode();
        }
        return new SignCompletion(outcome.Message!.Encode(), next);
    }

    public Task<KeySummary?> GetKey(string keyId) =>
        Task.FromResult(state.State.Keys.TryGetValue(keyId, out StoredKey? key) ? Summarize(key) : null);

    public Task<IReadOnlyList<KeySummary>> ListKeys() =>
        Task.FromResult<IReadOnlyList<KeySummary>>([.. state.State.Keys.Values.OrderBy(k => k.CreatedAt).Select(Summarize)]);

    /// <summary>
    /// Stores the final-check marker (with what a re-run of the check needs) before c3 is decrypted. A write that meets a
    /// marker another activation left re-runs that check first (<see cref="RecoverMarker"/>) and tries once more when it
    /// passed. Refusals here (Frozen once storage's record is read again, Internal when storage fails) come before any
    /// decryption of this c3.
    /// </summary>
    private async Task<string> BeginFinalCheck(StoredKey key, PendingSign pending, FinalCheckRecord record)
    {
        for (int attempt = 0; ; attempt++)
        {
            SignerException refusal;
            try
            {
                return await _status.BeginFinalCheckAsync(key, pending.DeviceId, record, pending.Session.FinalCheckTag(record));
            }
            catch (SignerException e)
            {
                refusal = e;
            }
            if (attempt == 0 && refusal.Kind == SignerErrorKind.FailedPrecondition
                && _status.ForeignMarker(key.KeyId) is { } marker && await RecoverMarker(key.KeyId, marker))
            {
                // The interrupted check passed and its marker is cleared: this signature may go ahead.
                continue;
            }
            if (refusal.Kind == SignerErrorKind.FailedPrecondition)
            {
                // Another activation froze the key: this one's sessions and shares of it are useless now.
                DropShares(key.KeyId, deviceId: null);
            }
            audit.Record(key.KeyId, AuditEventKind.Sign, pending.DeviceId, pending.Digest, AuditOutcomes.Refused,
                refusal.Kind == SignerErrorKind.FailedPrecondition ? "frozen in storage" : "final-check marker not stored");
            throw refusal;
        }
    }

    /// <summary>
    /// Re-runs the final check a marker this activation did not write records (its activation crashed, or its freeze
    /// write failed), from the stored c3 with the key's share: the outcome is the one the interrupted check had, and the
    /// same c3 is decrypted again, so nothing new is learnt. Passed: the marker is cleared and the key stays active.
    /// Failed: the key is frozen durably, as a failed check. Could not run (no such key or device, a share that cannot
    /// be unsealed, a malformed record or one from before recovery existed, a storage failure): the marker stays, the
    /// key stays frozen. Returns true only when the marker was cleared.
    /// </summary>
    private async Task<bool> RecoverMarker(string keyId, PendingFinalCheck marker)
    {
        if (!state.State.Keys.TryGetValue(keyId, out StoredKey? key) || key.Status == KeyStatus.Frozen)
        {
            return false;
        }
        FinalCheckRecord? record = marker.ToRecord();
        if (record is null || !key.Devices.TryGetValue(marker.DeviceId, out StoredDevice? device))
        {
            metrics.FinalCheckRerun("not_run");
            logger.LogWarning("Key {KeyId} stays frozen: a final signature check (device {DeviceId}, started {Since:u}) never recorded its outcome " +
                "and cannot be re-run ({Why}). An operator unfreeze (which forces a refresh) lifts it",
                keyId, marker.DeviceId, marker.Since, record is null ? "the marker predates recovery" : "the device is gone");
            return false;
        }
        bool passed;
        try
        {
            ServerKeyShare share = await Share(key, device);
            // Before any decryption: a marker this server did not write (planted through storage, or altered) would make
            // the re-run decrypt a c3 whose proof was never checked, one bit of x1 per re-run.
            if (marker.Tag is null || !FinalCheck.IsAuthentic(share, marker.DeviceId, record, marker.Tag))
            {
                metrics.FinalCheckRerun("not_run");
                logger.LogError("Key {KeyId} stays frozen: the final-check marker (device {DeviceId}, started {Since:u}) is not authentic " +
                    "(its tag is {Tag}); it is not re-run. An operator unfreeze (which forces a refresh) lifts it",
                    keyId, marker.DeviceId, marker.Since, marker.Tag is null ? "missing" : "wrong");
                return false;
            }
            passed = FinalCheck.Recheck(share, marker.DeviceId, record, marker.Tag);
        }
        catch (Exception e) when (e is SignerException or MpcProtocolException)
        {
            metrics.FinalCheckRerun("not_run");
            logger.LogError(e, "Key {KeyId} stays frozen: the interrupted final check (device {DeviceId}) could not be re-run", keyId, marker.DeviceId);
            return false;
        }
        metrics.FinalCheckRerun(passed ? "passed" : "failed");
        if (!passed)
        {
            const string reason = "final signature check failed (re-run of an interrupted check)";
            try
            {
                await Freeze(keyId, marker.DeviceId, reason);
            }
            catch (SignerException)
            {
                // Logged by the status record; the marker in storage keeps the key frozen meanwhile.
            }
            finally
            {
                audit.Record(keyId, AuditEventKind.Freeze, marker.DeviceId, record.Digest, AuditOutcomes.Frozen, reason);
            }
            return false;
        }
        if (!await _status.ClearRecoveredMarkerAsync(keyId, marker.CheckId))
        {
            return false;
        }
        logger.LogWarning("Key {KeyId}: an interrupted final signature check (device {DeviceId}, started {Since:u}) was re-run and passed; " +
            "its marker is cleared and the key signs again", keyId, marker.DeviceId, marker.Since);
        audit.Record(keyId, AuditEventKind.Sign, marker.DeviceId, record.Digest, AuditOutcomes.Recovered, "interrupted final check re-run and passed");
        return true;
    }

    /// <summary>Re-runs every marker storage holds that this activation did not write; never fails the activation.</summary>
    private async Task RecoverMarkersAsync()
    {
        foreach ((string keyId, PendingFinalCheck check) in _status.ForeignMarkers().ToList())
        {
            try
            {
                await RecoverMarker(keyId, check);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Re-running the interrupted final check of key {KeyId} failed; it stays frozen", keyId);
            }
        }
    }

    /// <summary>
    /// The check ended without a failed verification. Its marker is cleared by the next marker write or, once
    /// the grain has been idle for <see cref="SignerOptions.FinalCheckMarkerClearDelay"/>, by a timer: one write per
    /// signature under load, two for a key that signs now and then.
    /// </summary>
    private void FinalCheckFinished(string checkId)
    {
        _status.Finished(checkId);
        TimeSpan delay = _options.FinalCheckMarkerClearDelay;
        if (_markerClear is null)
        {
            _markerClear = this.RegisterGrainTimer(_ => _status.ClearFinishedMarkersAsync(),
                new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { Interleave = false, KeepAlive = false });
        }
        else
        {
            _markerClear.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Drops every unsealed share and open session; nothing of them was ever written anywhere.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Best effort: a marker left behind (by a crash too) is re-run by the next activation; clearing it spares that.
        await _status.ClearFinishedMarkersAsync();
        foreach (ServerKeyShare share in _shares.Values)
        {
            share.Dispose();
        }
        _shares.Clear();
        metrics.SessionsChanged(-_signs.Count);
        _signs.Clear();
        metrics.GrainDeactivated();
        foreach (PendingKeyGen pending in _keyGens.Values)
        {
            pending.Session.Dispose();
        }
        _keyGens.Clear();
        DisposeRefreshes();
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>Times one call (per round), counts refusals by reason, and tracks the change in open sessions.</summary>
    private async Task<T> Observe<T>(string? round, Func<Task<T>> call)
    {
        long start = SignerMetrics.Start();
        int sessionsBefore = _signs.Count;
        try
        {
            T result = await call();
            if (round is not null)
            {
                metrics.Round(round, SignerMetrics.Since(start));
            }
            return result;
        }
        catch (SignerException e)
        {
            metrics.Failed(e.Kind);
            throw;
        }
        finally
        {
            metrics.SessionsChanged(_signs.Count - sessionsBefore);
        }
    }

    /// <summary>A new session (fresh k1 and its commitment) for the device's pair; <see cref="SigningSessions"/> keeps it.</summary>
    private async Task<SignServerSession> OpenSession(StoredKey key, StoredDevice device) => new(await Share(key, device), device.DeviceId);

    private async Task<ServerKeyShare> Share(StoredKey key, StoredDevice device)
    {
        string cacheKey = ShareCacheKey(key.KeyId, device.DeviceId);
        if (_shares.TryGetValue(cacheKey, out ServerKeyShare? cached))
        {
            return cached;
        }
        byte[] secret;
        try
        {
            secret = await sealer.OpenAsync(device.SealedShare, new SealContext(UserId, key.KeyId, device.SealPurpose), CancellationToken.None);
        }
        catch (SealedDataException e)
        {
            logger.LogError(e, "The sealed share of key {KeyId}, device {DeviceId} could not be opened", key.KeyId, device.DeviceId);
            throw new SignerException(SignerErrorKind.Internal, $"The stored share of key '{key.KeyId}' cannot be opened with the configured key-encryption key.");
        }
        try
        {
            ServerKeyShare share = ServerKeyShare.ImportSecret(secret, backend);
            if (device.ShareId.Length == 0)
            {
                // A pair sealed before share ids existed: its id is derived data, written with the next state write.
                device.ShareId = share.ShareId;
            }
            _shares[cacheKey] = share;
            return share;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// Makes the frozen status durable before anyone is answered, in the small status record. The key is frozen in
    /// this activation first; if storage refuses, the final-check marker already stored keeps it frozen for every
    /// activation and the caller gets Internal, never a signature.
    /// </summary>
    private async Task Freeze(string keyId, string deviceId, string reason)
    {
        logger.LogWarning("Freezing key {KeyId} (device {DeviceId}): {Reason}", keyId, deviceId, reason);
        metrics.Frozen();
        DropShares(keyId, deviceId: null);
        await _status.FreezeAsync(keyId, deviceId, reason);
    }

    /// <summary>Replaces the in-memory state with storage's, read as every activation reads it (legacy shares become the primary device).</summary>
    private async Task ReloadStateAsync()
    {
        await state.ReadStateAsync();
        MigrateLegacyShares();
    }

    private StoredKey RequireSignableKey(string keyId)
    {
        RequireKeyId(keyId);
        if (!state.State.Keys.TryGetValue(keyId, out StoredKey? key))
        {
            throw SignerErrors.UnknownKey(keyId);
        }
        if (_status.IsFrozen(key))
        {
            throw SignerErrors.Frozen(keyId);
        }
        return key;
    }

    private void PurgeExpired()
    {
        DateTimeOffset now = time.GetUtcNow();
        _signs.Purge();
        PurgeExpiredRefreshes(now);
        foreach (string id in _keyGens.Where(s => s.Value.ExpiresAt < now).Select(s => s.Key).ToList())
        {
            _keyGens.Remove(id, out PendingKeyGen? expired);
            expired?.Session.Dispose();
        }
    }

    /// <summary>
    /// Records this user as the key id's owner, durably, just before the key itself is stored: an abandoned key
    /// generation or import leaves no record. The id is 128 random bits, but if it were taken nothing is stored.
    /// </summary>
    private async Task ClaimKeyId(string keyId)
    {
        bool claimed;
        try
        {
            claimed = await GrainFactory.GetGrain<IKeyOwnerGrain>(keyId).Claim(UserId);
        }
        catch (Exception e) when (e is not SignerException)
        {
            logger.LogError(e, "Claiming key id {KeyId} failed", keyId);
            throw new SignerException(SignerErrorKind.Internal, "The key id could not be recorded; nothing was stored. Try again.");
        }
        if (!claimed)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key id '{keyId}' is already taken; nothing was stored. Start again.");
        }
    }

    private KeySummary Summarize(StoredKey key)
    {
        EcCurve curve = EcCurve.Get((CurveKind)key.Curve);
        byte[] spki = PublicKeyEncoding.ToSubjectPublicKeyInfo(curve, curve.DecodePoint(key.PublicKey, "public key"));
        return new KeySummary(key.KeyId, key.Curve, spki, _status.StatusOf(key), key.CreatedAt, [.. key.CertificateChain], key.Imported);
    }

    private static void RequireKeyId(string keyId)
    {
        if (!KeyIds.IsValid(keyId))
        {
            throw new SignerException(SignerErrorKind.InvalidArgument, "Key id must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'.");
        }
    }

    private static T Decode<T>(Func<T> decode) => Protocol(decode);

    private static T Protocol<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (MpcProtocolException e)
        {
            throw SignerErrors.From(e);
        }
    }

    private sealed record PendingKeyGen(KeyGenServerSession Session, CurveKind Curve, DateTimeOffset ExpiresAt);
}
