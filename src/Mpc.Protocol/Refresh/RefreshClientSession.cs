using RandomNumberGenerator = System.Security.Cryptography.RandomNumberGenerator;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Protocol.Refresh;

/// <summary>
/// The client's (P2's) side of a share refresh. It contributes r2 after the server committed to r1, checks every
/// claim about the new Paillier key and c_key', checks that its new share x2' = x2·r⁻¹ still completes the public
/// key, and only then proves x2' to the server.
/// </summary>
public sealed class RefreshClientSession : IDisposable
{
    private enum State { Initial, Requested, Contributed, Completed, Failed }

    private readonly SessionGate<State> _gate = new(State.Initial, State.Failed);
    private readonly EcCurve _curve;
    private readonly ECPoint _publicKey;
    private readonly string? _expectedKeyId;
    private readonly string? _sourceDeviceId;
    private readonly RefreshPurpose _purpose;
    private readonly RingPedersenParameters _parameters;
    private readonly IBigNumBackend _backend;
    private RingPedersenSecret? _auxiliary; // null until supplied (Opening); needed for Πprm and the server's proofs
    private byte[]? _shareId;
    private BigInteger? _x2;
    private BigInteger? _r2;
    private byte[]? _clientNonce;
    private byte[]? _commitment;
    private string? _keyId;
    private string? _deviceId;
    private ProofContext? _clientContext;
    private ProofContext? _serverContext;

    private RefreshClientSession(string? keyId, string? sourceDeviceId, EcCurve curve, BigInteger? x2, ECPoint publicKey, RefreshPurpose purpose, RingPedersenParameters parameters, RingPedersenSecret? auxiliary, IBigNumBackend backend)
    {
        _expectedKeyId = keyId;
        _sourceDeviceId = sourceDeviceId;
        _curve = curve;
        _x2 = x2;
        _publicKey = publicKey;
        _purpose = purpose;
        _parameters = parameters;
        _auxiliary = auxiliary;
        _backend = backend;
    }

    /// <summary>Refreshes from a share this device holds (or was handed, or restored from a backup).</summary>
    public static RefreshClientSession FromShare(ClientKeyShare source, RefreshPurpose purpose, RingPedersenSecret auxiliary, IBigNumBackend backend)
    {
        if (purpose == RefreshPurpose.Import)
        {
            throw new ArgumentException("An import starts from a split key.", nameof(purpose));
        }
        return new(source.KeyId, source.DeviceId, EcCurve.Get(source.Curve), source.X2, source.PublicKey, purpose, auxiliary.Parameters, auxiliary, backend);
    }

    /// <summary>
    /// Refreshes a share that is still being opened (a key file's and a device profile's Argon2id), known meanwhile
    /// by its public identity and the device's public parameters from clear headers. Rounds 1 to 3 need nothing
    /// secret when round 2 names <paramref name="parameters"/> as verified (no Πprm); <see cref="Supply"/> hands over
    /// the opened share and parameters, which must match what the session started from, before round 4 (and before
    /// round 3 when the server asks for Πprm: <see cref="NeedsSecretsFor"/>). Nothing is committed before round 5, so
    /// a share that fails to open or does not match leaves the server's key as it was.
    /// </summary>
    public static RefreshClientSession Opening(string keyId, string deviceId, ReadOnlySpan<byte> shareId, CurveKind curveKind, ECPoint publicKey, RingPedersenParameters parameters, IBigNumBackend backend)
    {
        KeyIds.Require(keyId);
        if (!DeviceIds.IsValid(deviceId))
        {
            throw new ArgumentException("Not a valid device id.", nameof(deviceId));
        }
        if (shareId.Length != ShareIds.Length)
        {
            throw new ArgumentException($"A share id is {ShareIds.Length} bytes.", nameof(shareId));
        }
        EcCurve curve = EcCurve.Get(curveKind);
        curve.ValidatePoint(publicKey, "public key");
        ArgumentNullException.ThrowIfNull(parameters);
        return new(keyId, deviceId, curve, null, publicKey, RefreshPurpose.Refresh, parameters, null, backend)
        {
            _shareId = shareId.ToArray(),
        };
    }

    /// <summary>Whether <see cref="HandleCommitment"/> needs the supplied secrets for <paramref name="message"/> (the server wants Πprm).</summary>
    public bool NeedsSecretsFor(RefreshCommitment message) => _auxiliary is null && !message.Names(_parameters);

    /// <summary>
    /// Hands an <see cref="Opening"/> session the opened share and device parameters. Refused, and the session fails,
    /// unless they are exactly the key, device, share, curve, public key and parameters it started from: the clear
    /// headers they were read from are authenticated only by this opening. Call it between rounds, never while a
    /// round is being handled (the SDK awaits every step in turn).
    /// </summary>
    public void Supply(ClientKeyShare source, RingPedersenSecret auxiliary)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(auxiliary);
        if (_auxiliary is not null || _shareId is null)
        {
            throw new InvalidOperationException("Only an opening refresh takes its share later, once.");
        }
        bool matches = source.KeyId == _expectedKeyId
            && source.DeviceId == _sourceDeviceId
            && source.Curve == _curve.Kind
            && source.PublicKey.Equals(_publicKey)
            && source.ShareId.AsSpan().SequenceEqual(_shareId)
            && auxiliary.Parameters.Equals(_parameters);
        if (!matches)
        {
            _gate.Close();
            throw new MpcProtocolException(MpcErrorCode.SessionMismatch,
                "Session mismatch: the opened share or device parameters differ from the clear header the refresh started from.");
        }
        _x2 = source.X2;
        _auxiliary = auxiliary;
    }

    /// <summary>
    /// Splits a whole private key <paramref name="privateKey"/> into a random seed share for the server (returned
    /// in <paramref name="seedShare"/>) and the matching client part, which this session refreshes. The caller
    /// zeroes <paramref name="seedShare"/> once sent and forgets the whole key.
    /// </summary>
    public static RefreshClientSession ForImport(CurveKind curveKind, BigInteger privateKey, RingPedersenSecret auxiliary, IBigNumBackend backend, out byte[] seedShare, out byte[] publicKey)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        curve.RequireScalar(privateKey, "private key");
        ECPoint q = curve.MultiplyBase(privateKey);
        BigInteger seed = curve.RandomScalar();
        BigInteger x2 = privateKey.Multiply(seed.ModInverse(curve.Order)).Mod(curve.Order);
        seedShare = curve.EncodeScalar(seed);
        publicKey = curve.EncodePoint(q);
        return new(null, null, curve, x2, q, RefreshPurpose.Import, auxiliary.Parameters, auxiliary, backend);
    }

    /// <summary>Round 1: the purpose, the curve and a fresh client nonce.</summary>
    public RefreshRequest Start() =>
        _gate.Step("start", State.Initial, State.Requested, () =>
        {
            _clientNonce = RandomNumberGenerator.GetBytes(ProtocolLimits.NonceLength);
            return new RefreshRequest(_purpose, _curve.Kind, _clientNonce);
        });

    /// <summary>Round 2 → 3: records the commitment to r1, then sends r2 and the auxiliary parameters.</summary>
    public RefreshContribution HandleCommitment(RefreshCommitment message) =>
        _gate.Step(nameof(RefreshCommitment), State.Requested, State.Contributed, () =>
        {
            KeyIds.Require(message.KeyId);
            if (_expectedKeyId is not null && message.KeyId != _expectedKeyId)
            {
                throw ProtocolError.SessionMismatch("key id");
            }
            if (!DeviceIds.IsValid(message.TargetDeviceId))
            {
                throw ProtocolError.Malformed("device id");
            }
            if (_purpose == RefreshPurpose.Refresh && message.TargetDeviceId != _sourceDeviceId)
            {
                throw ProtocolError.SessionMismatch("a refresh for another device");
            }
            if (message.ServerNonce.Length != ProtocolLimits.NonceLength || message.Commitment.Length != HashCommitment.DigestLength)
            {
                throw ProtocolError.Malformed("refresh commitment fields have wrong sizes");
            }
            _keyId = message.KeyId;
            _deviceId = message.TargetDeviceId;
            _commitment = message.Commitment;
            byte[] sessionId = SessionIds.ForRefresh(_clientNonce, message.ServerNonce, _keyId, _deviceId, _curve.Kind, _purpose.ToString(), _curve.EncodePoint(_publicKey));
            _clientContext = new ProofContext(sessionId, PartyRole.Client, _keyId, _curve.Kind);
            _serverContext = _clientContext.ForProver(PartyRole.Server);
            RingPedersenProof? proof = message.Names(_parameters)
                ? null
                : RingPedersenProof.Prove(_auxiliary ?? throw new InvalidOperationException("The server asks for Πprm: supply the device's parameters first."), _clientContext);
            _r2 = _curve.RandomScalar();
            return new RefreshContribution(_curve.EncodeScalar(_r2), _parameters, proof);
        });

    /// <summary>
    /// Round 4 → 5: opens r1, checks the new Paillier key and that c_key' encrypts log_G(Q1'), checks
    /// x2'·Q1' = Q, and returns the new share with the confirmation to send. Keep the old share until the
    /// server acknowledges the confirmation.
    /// </summary>
    public RefreshClientOutput HandleServerShare(RefreshServerShare message) =>
        _gate.Step(nameof(RefreshServerShare), State.Contributed, State.Completed, () =>
        {
            ProofContext context = _serverContext!;
            if (_x2 is null || _auxiliary is null)
            {
                throw new InvalidOperationException("Supply the opened share before the server's share is handled.");
            }
            if (!HashCommitment.Verify(context, ProofPurposes.RefreshFactor, _commitment, message.Factor, message.CommitmentSalt))
            {
                throw ProtocolError.CommitmentMismatch("r1");
            }
            BigInteger r1 = _curve.DecodeScalar(message.Factor, "factor r1");
            BigInteger r = r1.Multiply(_r2!).Mod(_curve.Order);
            BigInteger x2 = _x2.Multiply(r.ModInverse(_curve.Order)).Mod(_curve.Order);
            ECPoint q1 = _curve.DecodePoint(message.Q1, "Q1");
            PaillierPublicKey paillier = message.Setup.Verify(_curve, q1, _auxiliary, context, _backend);
            if (!_curve.MultiplySecret(q1, x2).Equals(_publicKey))
            {
                throw new MpcProtocolException(MpcErrorCode.SessionMismatch,
                    "Session mismatch: the server's new share does not complete the key's public key.");
            }
            ECPoint q2 = _curve.MultiplyBase(x2);
            var confirmation = new RefreshConfirmation(_curve.EncodePoint(q2), DlogProof.Prove(_curve, x2, q2, _clientContext!, ProofPurposes.RefreshShare));
            var share = new ClientKeyShare(_keyId!, _curve.Kind, x2, paillier, message.Setup.EncryptedShare, _publicKey, message.Setup.ServerRingPedersen, _deviceId!);
            _x2 = null;
            _r2 = null;
            return new RefreshClientOutput(confirmation, share);
        });

    public void Dispose()
    {
        _x2 = null;
        _r2 = null;
    }

    public override string ToString() => $"RefreshClientSession({_keyId ?? "import"}, {_purpose}, {_gate.State})";
}

/// <summary>The client's last refresh message and the new share it keeps once the server acknowledges.</summary>
public sealed class RefreshClientOutput(RefreshConfirmation confirmation, ClientKeyShare share)
{
    public RefreshConfirmation Confirmation { get; } = confirmation;

    public ClientKeyShare Share { get; } = share;

    public override string ToString() => $"RefreshClientOutput({Share})";
}
