using Microsoft.Extensions.Logging;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Grains.Telemetry;
using Mpc.Protocol;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;

namespace Mpc.Grains;

/// <summary>
/// The server's signing rounds for one user. Sessions, and with them every nonce, exist only in memory and are consumed
/// by one pass through their rounds. No c3 is decrypted before a final-check marker is stored
/// (<see cref="KeyStatusRecord"/>); a failed final check freezes the key in storage before the caller hears anything.
/// </summary>
/// <param name="context">The activation's state and services.</param>
/// <param name="recovery">Re-runs a check another activation left unfinished, when a marker write meets it.</param>
/// <param name="checkFinished">Called when a check ended without a failed verification (the grain clears its marker later).</param>
internal sealed class SigningRounds(UserKeysContext context, FinalCheckRecovery recovery, Action<string> checkFinished)
{
    public async Task<byte[]> BeginSign(string keyId, DeviceShare device)
    {
        await ReRunInterruptedCheck(keyId);
        StoredKey key = await context.RequireCurrentSignableKeyAsync(keyId);
        StoredDevice stored = DeviceRules.RequireSigning(key, device);
        // Refused here, unaudited, while the key's window is full: every session begun is one the window had room for,
        // so rate-limited refusals at SignNonce (each audited) cannot be had at will.
        context.SigningRate.Check(keyId, $"Key '{keyId}'");
        context.PurgeExpired();
        SignServerSession session = (await context.Signs.CommitmentFor(keyId, stored.DeviceId, () => OpenSession(key, stored)))!;
        return session.Commitment.Encode();
    }

    public async Task<byte[]> SignNonce(string keyId, DeviceShare device, byte[] nonce)
    {
        // Also here: a client holding a commitment from an earlier signature starts at this round.
        await ReRunInterruptedCheck(keyId);
        StoredKey key = context.RequireSignableKey(keyId);
        SignNonce decoded = UserKeysContext.Protocol(() => Mpc.Protocol.Messages.SignNonce.Decode(nonce, key.CurveKind));
        string sessionId = Convert.ToHexStringLower(decoded.ServerSessionId);
        // An opened session is not found: its one nonce round has run (or runs now) for whoever opened it first.
        PendingSign pending = context.Signs.Unopened(sessionId, keyId) ?? throw SignerErrors.UnknownSession();
        // The session was made at BeginSign for a pair that could sign, and a revocation, refresh or unfreeze drops the
        // device's sessions (one made elsewhere fails the generation check before decryption): the caller only has to be
        // the pair the session was made for.
        StoredDevice stored = DeviceRules.RequireSessionPair(key, pending.DeviceId, device);
        int opened = context.Signs.OpenedCount(keyId);
        if (opened >= context.Options.MaxOpenSessionsPerKey)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"Key '{keyId}' has {context.Options.MaxOpenSessionsPerKey} signatures in progress; finish them or wait a few seconds for them to expire.");
        }
        try
        {
            // Charged as the nonce round starts, whatever becomes of the signature: released, refused at SignFinish
            // (audited, after the server's proof check) or abandoned, it used a nonce and the server's work.
            context.SigningRate.Take(keyId, $"Key '{keyId}'");
        }
        catch (SignerException)
        {
            // Refused before the nonce is opened: the session is burnt (and spent) having revealed nothing, and so is every
            // other commitment of the key, each of which would be refused now too. New ones wait for room (BeginSign), so
            // each place that frees in the window buys at most one audited refusal, however many devices hold commitments.
            context.Signs.RemoveUnopened(keyId);
            context.Audit.Record(keyId, AuditEventKind.Sign, stored.DeviceId, decoded.Digest, AuditOutcomes.RateLimited);
            throw;
        }
        context.Signs.MarkOpened(pending);
        try
        {
            byte[] opening = pending.Session.HandleNonce(decoded).Encode();
            pending.NonceAt = SignerMetrics.Start();
            pending.Digest = decoded.Digest;
            return opening;
        }
        catch (MpcProtocolException e)
        {
            // A refused round burns the session: its nonce is never offered again.
            context.Signs.Remove(sessionId);
            throw SignerErrors.From(e);
        }
    }

    public async Task<SignCompletion> SignFinish(string keyId, byte[] sessionId, byte[] ciphertext, bool wantNextCommitment)
    {
        StoredKey key = context.RequireSignableKey(keyId);
        string id = sessionId.Length == ProtocolLimits.ServerSessionIdLength ? Convert.ToHexStringLower(sessionId) : "";
        // Only an opened session finishes: a c3 sent for one whose nonce round never ran (a guessed or copied session id)
        // is told NotFound and burns nothing, so the device that holds that commitment can still use it.
        PendingSign pending = context.Signs.Find(id, keyId) is { Opened: true } opened ? opened : throw SignerErrors.UnknownSession();
        // The session is spent whatever happens below, a c3 that does not even decode included: its nonce never meets a
        // second c3 (docs/service.md, "a refused round burns the session"). Out of the sessions now, it is still used
        // until this call ends, when it is disposed (spent) on every path, a refused final check included.
        context.Signs.Detach(id);
        using SignServerSession session = pending.Session;
        FinalCheckRecord record;
        try
        {
            SignCiphertext decoded = SignCiphertext.Decode(ciphertext, key.CurveKind, session.PaillierModulusBits);
            // The proof first: a refused c3 costs no storage write, leaves no marker and decrypts nothing.
            record = session.VerifyCiphertext(decoded);
        }
        catch (MpcProtocolException e)
        {
            bool proofFailed = e.Code == MpcErrorCode.ProofFailed;
            if (proofFailed)
            {
                context.Logger.LogWarning("Refused a signing ciphertext without a valid proof for key {KeyId} (device {DeviceId})", keyId, pending.DeviceId);
            }
            context.Audit.Record(keyId, AuditEventKind.Sign, pending.DeviceId, pending.Digest, proofFailed ? AuditOutcomes.ProofFailed : AuditOutcomes.Refused, e.Code.ToString());
            throw proofFailed ? SignerErrors.CiphertextProofFailed(e) : SignerErrors.From(e);
        }
        string checkId = await BeginFinalCheck(key, pending, record);
        SignServerOutcome outcome;
        try
        {
            context.Metrics.FinalCheckStarted();
            outcome = session.DecryptAndVerify();
        }
        catch (MpcProtocolException e)
        {
            // Refused before a decrypted value was used: nothing was learnt, so the marker may go.
            checkFinished(checkId);
            context.Audit.Record(keyId, AuditEventKind.Sign, pending.DeviceId, pending.Digest, AuditOutcomes.Refused, e.Code.ToString());
            throw SignerErrors.From(e);
        }
        if (outcome.KeyMustBeFrozen)
        {
            try
            {
                await context.Freeze(keyId, pending.DeviceId, "final signature check failed");
            }
            finally
            {
                context.Audit.Record(keyId, AuditEventKind.Freeze, pending.DeviceId, pending.Digest, AuditOutcomes.Frozen, "final signature check failed");
            }
            throw SignerErrors.Frozen(keyId);
        }
        checkFinished(checkId);
        context.Metrics.Signed(EcCurve.NameOf(key.CurveKind), SignerMetrics.Since(pending.NonceAt ?? SignerMetrics.Start()));
        context.Audit.Record(keyId, AuditEventKind.Sign, pending.DeviceId, pending.Digest, AuditOutcomes.Ok);
        byte[]? next = null;
        // None while the key's window is full, as BeginSign would refuse: the client asks BeginSign and hears when to retry.
        if (wantNextCommitment && context.SigningRate.HasRoom(keyId) && key.Devices.TryGetValue(pending.DeviceId, out StoredDevice? device) && !device.Revoked)
        {
            // One of the device's unopened commitments if it already holds the maximum, so a caller that
            // throws the next commitment away (a one-shot process) never makes the pool grow.
            next = (await context.Signs.CommitmentFor(keyId, device.DeviceId, () => OpenSession(key, device)))!.Commitment.Encode();
        }
        return new SignCompletion(outcome.Message!.Encode(), next);
    }

    /// <summary>
    /// Stores the final-check marker (with what a re-run of the check needs) before c3 is decrypted. A write that meets a
    /// marker another activation left re-runs that check first (<see cref="FinalCheckRecovery"/>) and tries once more when
    /// it passed. Refusals here (Frozen once storage's record is read again, FailedPrecondition when storage's generation
    /// says the key's devices changed since this activation read them, Internal when storage fails) come before any
    /// decryption of this c3.
    /// </summary>
    private async Task<string> BeginFinalCheck(StoredKey key, PendingSign pending, FinalCheckRecord record)
    {
        for (int attempt = 0; ; attempt++)
        {
            SignerException refusal;
            try
            {
                return await context.Status.BeginFinalCheckAsync(key, pending.DeviceId, record, pending.Session.FinalCheckTag(record));
            }
            catch (SignerException e)
            {
                refusal = e;
            }
            if (attempt == 0 && refusal.Kind == SignerErrorKind.FailedPrecondition
                && context.Status.ForeignMarker(key.KeyId) is { } marker && await recovery.Recover(key.KeyId, marker))
            {
                // The interrupted check passed and its marker is cleared: this signature may go ahead.
                continue;
            }
            if (refusal.Kind == SignerErrorKind.FailedPrecondition)
            {
                // Another activation froze the key or changed its devices: this one's sessions and shares of it are useless
                // now (the next BeginSign reads the devices again).
                context.DropShares(key.KeyId, deviceId: null);
            }
            string detail = refusal.Kind != SignerErrorKind.FailedPrecondition ? "final-check marker not stored"
                : refusal.Reason == ErrorReasons.KeyFrozen ? "frozen in storage"
                : "devices changed in storage";
            context.Audit.Record(key.KeyId, AuditEventKind.Sign, pending.DeviceId, pending.Digest, AuditOutcomes.Refused, detail);
            throw refusal;
        }
    }

    /// <summary>
    /// A check that never recorded its outcome in this activation (an unexpected failure between the marker and the
    /// verdict) would otherwise keep the key refused until the grain is next activated: re-run it from its marker.
    /// </summary>
    private async Task ReRunInterruptedCheck(string keyId)
    {
        if (context.Status.ForeignMarker(keyId) is { } unresolved)
        {
            await recovery.RecoverRunnable(keyId, unresolved);
        }
    }

    /// <summary>A new session (fresh k1 and its commitment) for the device's pair; <see cref="SigningSessions"/> keeps it.</summary>
    private async Task<SignServerSession> OpenSession(StoredKey key, StoredDevice device) => new(await context.Shares.Open(key, device), device.DeviceId);
}
