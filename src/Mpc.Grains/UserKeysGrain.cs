using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Mpc.Protocol.Keys;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Grains.Sealing;
using Mpc.Grains.Telemetry;

namespace Mpc.Grains;

/// <summary>
/// The server's side of one user's keys: routes each call to the plain class that does the work
/// (<see cref="SigningRounds"/>, <see cref="KeyCreation"/>, <see cref="DeviceRefresh"/>, <see cref="KeyAdministration"/>)
/// over one activation's state (<see cref="UserKeysContext"/>: the stored <see cref="KeyRecord"/> and
/// <see cref="KeyStatusRecord"/>, the in-memory sessions and unsealed shares). What belongs to the grain itself stays
/// here: activation (legacy migration, re-running interrupted final checks), deactivation, the marker-clearing timer and
/// per-call metrics. Non-reentrant: one call at a time.
/// </summary>
[GrainType(GrainTypes.UserKeys)]
public sealed class UserKeysGrain : Grain, IUserKeysGrain, ISigningSessionsGrain
{
    private readonly UserKeysContext _context;
    private readonly KeyCreation _creation;
    private readonly SigningRounds _signing;
    private readonly FinalCheckRecovery _recovery;
    private readonly DeviceRefresh _refresh;
    private readonly KeyAdministration _administration;
    private readonly SignerMetrics _metrics;
    private IGrainTimer? _markerClear;

    public UserKeysGrain(
        [PersistentState("keys", StorageNames.Keys)] IPersistentState<UserKeysState> state,
        [PersistentState("status", StorageNames.Keys)] IPersistentState<KeyStatusState> status,
        ShareSealer sealer,
        IBigNumBackend backend,
        IOptions<SignerOptions> options,
        TimeProvider time,
        SignerMetrics metrics,
        IKeyAuditTrail audit,
        ILogger<UserKeysGrain> logger)
    {
        string userId = this.GetPrimaryKeyString();
        _metrics = metrics;
        _context = new UserKeysContext
        {
            UserId = userId,
            Keys = new KeyRecord(state, logger),
            Status = new KeyStatusRecord(status, time, logger),
            Shares = new ShareCache(userId, sealer, backend, logger),
            Signs = new SigningSessions(options.Value, time),
            KeyGens = new KeyGenSessions(options.Value, time),
            Refreshes = new RefreshSessions(options.Value, time),
            SigningRate = SlidingWindowLimit.Signatures(options.Value, time),
            PaillierKeyRate = SlidingWindowLimit.PaillierKeys(options.Value, time),
            CertificateChainRate = SlidingWindowLimit.CertificateChains(options.Value, time),
            Options = options.Value,
            Time = time,
            Backend = backend,
            PaillierKeys = ServiceProvider.GetService(typeof(IPaillierKeySource)) as IPaillierKeySource ?? FreshPaillierKeys.Instance,
            KnownClientParameters = (ServiceProvider.GetService(typeof(VerifiedRingPedersenCache)) as VerifiedRingPedersenCache)?.For(userId),
            Metrics = metrics,
            Audit = audit,
            Logger = logger,
            ClaimKeyId = keyId => GrainFactory.GetGrain<IKeyOwnerGrain>(keyId).Claim(userId),
        };
        // A write that met another activation's newer state re-read it: the shares and sessions of the old one go.
        _context.Keys.Reloaded += _context.DropAll;
        _creation = new KeyCreation(_context);
        _recovery = new FinalCheckRecovery(_context);
        _signing = new SigningRounds(_context, _recovery, FinalCheckFinished);
        _refresh = new DeviceRefresh(_context, new KeyImport(_context, _creation));
        _administration = new KeyAdministration(_context);
    }

    public Task<byte[]> BeginKeyGen(string keyId, byte[] request) => Observe(null, () => Task.FromResult(_creation.BeginKeyGen(keyId, request)));

    public Task<KeyGenCompletion> CompleteKeyGen(string keyId, byte[] clientShare) => Observe(null, () => _creation.CompleteKeyGen(keyId, clientShare));

    public Task<byte[]> CompleteKeyGenToConfirm(string keyId, byte[] clientShare) =>
        Observe(null, () => _creation.CompleteKeyGenToConfirm(keyId, clientShare));

    public Task<KeySummary> ConfirmKeyGen(string keyId) => Observe(null, () => _creation.ConfirmKeyGen(keyId));

    public Task<byte[]> BeginSign(string keyId, DeviceShare device) => Observe("commit", () => _signing.BeginSign(keyId, device));

    public Task<byte[]> SignNonce(string keyId, DeviceShare device, byte[] nonce) =>
        Observe("nonce", () => _signing.SignNonce(keyId, device, nonce));

    public Task<SignCompletion> SignFinish(string keyId, byte[] sessionId, byte[] ciphertext, bool wantNextCommitment) =>
        Observe("finish", () => _signing.SignFinish(keyId, sessionId, ciphertext, wantNextCommitment));

    public Task<RefreshStarted> BeginRefresh(string keyId, RefreshStart start) => Observe(null, () => _refresh.Begin(keyId, start));

    public Task<RefreshStarted> BeginImport(string keyId, ImportStart start) => Observe(null, () => Task.FromResult(_refresh.BeginImport(keyId, start)));

    public Task<byte[]> ContinueRefresh(string keyId, string refreshId, byte[] contribution) =>
        Observe(null, () => _refresh.Continue(keyId, refreshId, contribution));

    public Task<RefreshCompletion> CompleteRefresh(string keyId, string refreshId, byte[] confirmation) =>
        Observe(null, () => _refresh.Complete(keyId, refreshId, confirmation));

    public Task<IReadOnlyList<DeviceSummary>> ListDevices(string keyId) => Task.FromResult(_administration.ListDevices(keyId));

    public Task<DeviceSummary> RevokeDevice(string keyId, string deviceId) => Observe(null, () => _administration.RevokeDevice(keyId, deviceId));

    public Task<KeySummary> Unfreeze(string keyId, string? revokeDeviceId, string operatorName) =>
        Observe(null, () => _administration.Unfreeze(keyId, revokeDeviceId, operatorName));

    public Task<KeySummary> SetCertificateChain(string keyId, byte[][] chainDer) => Observe(null, () => _administration.SetCertificateChain(keyId, chainDer));

    public Task<KeySummary?> GetKey(string keyId) =>
        Task.FromResult(_context.Keys.Find(keyId) is { } key ? _context.Summarize(key) : null);

    public Task<IReadOnlyList<KeySummary>> ListKeys() =>
        Task.FromResult<IReadOnlyList<KeySummary>>([.. _context.Keys.Keys.OrderBy(k => k.CreatedAt).Select(_context.Summarize)]);

    public Task<SigningSessionCounts> GetSigningSessionCounts(string keyId) => Task.FromResult(_context.Signs.Counts(keyId));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _context.Keys.MigrateLegacyShares();
        // Markers left by an activation that died mid-check (or could not store its freeze): re-run their checks.
        await _recovery.RecoverAll();
        _metrics.GrainActivated();
        await base.OnActivateAsync(cancellationToken);
    }

    /// <summary>Drops every unsealed share and open session; nothing of them was ever written anywhere.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Best effort: a marker left behind (by a crash too) is re-run by the next activation; clearing it spares that.
        await _context.Status.ClearFinishedMarkersAsync();
        _context.Shares.Clear();
        _metrics.SessionsChanged(-_context.Signs.Count);
        _context.Signs.Clear();
        _metrics.GrainDeactivated();
        _context.KeyGens.Clear();
        _context.Refreshes.Clear();
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>
    /// The check ended without a failed verification. Its marker is cleared by the next marker write or, once
    /// the grain has been idle for <see cref="SignerOptions.FinalCheckMarkerClearDelay"/>, by a timer: one write per
    /// signature under load, two for a key that signs now and then.
    /// </summary>
    private void FinalCheckFinished(string checkId)
    {
        _context.Status.Finished(checkId);
        TimeSpan delay = _context.Options.FinalCheckMarkerClearDelay;
        if (_markerClear is null)
        {
            _markerClear = this.RegisterGrainTimer(_ => _context.Status.ClearFinishedMarkersAsync(),
                new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { Interleave = false, KeepAlive = false });
        }
        else
        {
            _markerClear.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Times one call (per round), counts refusals by reason, and tracks the change in open sessions.</summary>
    private async Task<T> Observe<T>(string? round, Func<Task<T>> call)
    {
        long start = SignerMetrics.Start();
        int sessionsBefore = _context.Signs.Count;
        try
        {
            T result = await call();
            if (round is not null)
            {
                _metrics.Round(round, SignerMetrics.Since(start));
            }
            return result;
        }
        catch (SignerException e)
        {
            _metrics.Failed(e.Kind);
            throw;
        }
        finally
        {
            _metrics.SessionsChanged(_context.Signs.Count - sessionsBefore);
        }
    }
}
