using CryptographicOperations = System.Security.Cryptography.CryptographicOperations;
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
/// The server's (P1's) side of a share refresh: x1' = x1·r and x2' = x2·r⁻¹ for r = r1·r2, where the server
/// commits to r1 before it sees r2, so neither party picks r alone; a new Paillier key carries c_key' = Enc(x1').
/// The public key is unchanged. The new pair replaces the old only after the client proves it holds x2'
/// (<see cref="HandleConfirmation"/>); until then the caller keeps the old share in force.
/// </summary>
public sealed class RefreshServerSession : IDisposable
{
    private enum State { AwaitingRequest, Committed, SharedProofs, Completed, Failed }

    private readonly SessionGate<State> _gate = new(State.AwaitingRequest, State.Failed);
    private readonly EcCurve _curve;
    private readonly ECPoint _publicKey;
    private readonly IBigNumBackend _backend;
    private readonly int _paillierModulusBits;
    private readonly RefreshPurpose _purpose;
    private BigInteger? _x1;
    private BigInteger? _r1;
    private byte[]? _salt;
    private KnownParametersPin? _pin;
    private ProofContext? _serverContext;
    private ProofContext? _clientContext;
    private ServerKeyShare? _pending;

    private RefreshServerSession(string keyId, string targetDeviceId, EcCurve curve, BigInteger x1, ECPoint publicKey, RefreshPurpose purpose, IBigNumBackend backend, int paillierModulusBits)
    {
        KeyIds.Require(keyId);
        if (!DeviceIds.IsValid(targetDeviceId))
        {
            throw ProtocolError.Malformed("device id");
        }
        KeyId = keyId;
        TargetDeviceId = targetDeviceId;
        _curve = curve;
        _x1 = x1;
        _publicKey = publicKey;
        _purpose = purpose;
        _backend = backend;
        _paillierModulusBits = paillierModulusBits;
    }

    /// <summary>Refreshes from a share the server holds (refresh, enrolment, backup, restore).</summary>
    public static RefreshServerSession FromShare(ServerKeyShare source, string targetDeviceId, RefreshPurpose purpose, IBigNumBackend backend, int paillierModulusBits = 2048)
    {
        if (purpose == RefreshPurpose.Import)
        {
            throw new ArgumentException("An import starts from the client's seed share.", nameof(purpose));
        }
        return new(source.KeyId, targetDeviceId, EcCurve.Get(source.Curve), source.X1, source.PublicKey, purpose, backend, paillierModulusBits);
    }

    /// <summary>
    /// Starts an imported key: the client split the whole key it held and sends one part as the seed; the
    /// refresh then re-randomises both parts jointly, so the final shares were not chosen by the client alone.
    /// </summary>
    public static RefreshServerSession FromImportedSeed(string keyId, CurveKind curveKind, ReadOnlySpan<byte> seedShare, ReadOnlySpan<byte> publicKey, IBigNumBackend backend, int paillierModulusBits = 2048)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        BigInteger seed = curve.DecodeScalar(seedShare, "seed share");
        ECPoint q = curve.DecodePoint(publicKey, "public key");
        return new(keyId, ClientKeyShare.PrimaryDevice, curve, seed, q, RefreshPurpose.Import, backend, paillierModulusBits);
    }

    public string KeyId { get; }

    public string TargetDeviceId { get; }

    /// <summary>
    /// Where the fresh Paillier key comes from: the server's pool of ready keys (<see cref="PaillierKeyPool"/>), or
    /// inline generation by default. Each key taken is used for this session only.
    /// </summary>
    public IPaillierKeySource PaillierKeys { get; set; } = FreshPaillierKeys.Instance;

    /// <summary>
    /// The client ring-Pedersen parameters this server already verified for the user (<see cref="VerifiedRingPedersenCache"/>):
    /// a known set skips its Πprm verification, never its shape checks. Null verifies every time. Read once, by
    /// <see cref="HandleRequest"/> (<see cref="VerifiedRingPedersenScope.Pin"/>); setting it later changes nothing.
    /// </summary>
    public VerifiedRingPedersenScope? KnownClientParameters { get; set; }

    /// <summary>Overrides <see cref="PaillierKeys"/>: tests substitute malformed keys to play a cheating server.</summary>
    internal Func<IBigNumBackend, int, PaillierPrivateKey>? PaillierFactory { get; set; }

    /// <summary>Round 1 → 2: fixes r1 and commits to it.</summary>
    public RefreshCommitment HandleRequest(RefreshRequest request) =>
        _gate.Step(nameof(RefreshRequest), State.AwaitingRequest, State.Committed, () =>
        {
            if (request.Curve != _curve.Kind)
            {
                throw new MpcProtocolException(MpcErrorCode.SessionMismatch, $"Session mismatch: the key is on {_curve.Name}, the request names {EcCurve.NameOf(request.Curve)}.");
            }
            if (request.Purpose != _purpose)
            {
                throw new MpcProtocolException(MpcErrorCode.SessionMismatch, $"Session mismatch: the request is for {request.Purpose}, this session for {_purpose}.");
            }
            if (request.ClientNonce.Length != ProtocolLimits.NonceLength)
            {
                throw ProtocolError.Malformed("client nonce must be 32 bytes");
            }
            byte[] serverNonce = RandomNumberGenerator.GetBytes(ProtocolLimits.NonceLength);
            byte[] sessionId = SessionIds.ForRefresh(request.ClientNonce, serverNonce, KeyId, TargetDeviceId, _curve.Kind, _purpose.ToString(), _curve.EncodePoint(_publicKey));
            _serverContext = new ProofContext(sessionId, PartyRole.Server, KeyId, _curve.Kind);
            _clientContext = _serverContext.ForProver(PartyRole.Client);
            _r1 = _curve.RandomScalar();
            byte[] commitment = HashCommitment.Commit(_serverContext, ProofPurposes.RefreshFactor, _curve.EncodeScalar(_r1), out _salt);
            _pin = KnownClientParameters?.Pin();
            return new RefreshCommitment(KeyId, TargetDeviceId, serverNonce, commitment, _pin?.NamesFor(serverNonce) ?? []);
        });

    /// <summary>
    /// Round 3 → 4: checks r2 and the client's ring-Pedersen parameters, computes x1' = x1·r1·r2, and sends
    /// the opening of r1 with the new Paillier key, c_key' and their proofs.
    /// </summary>
    public RefreshServerShare HandleContribution(RefreshContribution message) =>
        _gate.Step(nameof(RefreshContribution), State.Committed, State.SharedProofs, () =>
        {
            BigInteger r2 = _curve.DecodeScalar(message.Factor, "factor r2");
            RingPedersenParameters auxiliary = message.RingPedersen;
            // The pin of round 2, not the property: what was named then is what may come without a proof now.
            if (_pin is { } known)
            {
                known.Verify(auxiliary, message.RingPedersenProof, _clientContext!, _backend);
            }
            else
            {
                auxiliary.Validate();
                (message.RingPedersenProof ?? throw KnownParameterSets.MissingProof()).Verify(auxiliary, _clientContext!, _backend);
            }

            BigInteger r1 = _r1!;
            BigInteger x1 = _x1!.Multiply(r1).Multiply(r2).Mod(_curve.Order);
            ECPoint q1 = _curve.MultiplyBase(x1);
            PreparedPaillierKey prepared = PaillierFactory is { } factory
                ? PreparedPaillierKey.Inline(factory(_backend, _paillierModulusBits))
                : PaillierKeys.TakePrepared(_backend, _paillierModulusBits);
            PaillierPrivateKey paillier = prepared.Key;
            var setup = EncryptedShareSetup.Create(_curve, prepared, x1, auxiliary, _serverContext!, out RingPedersenSecret ringPedersen);
            _pending = new ServerKeyShare(KeyId, _curve.Kind, x1, paillier, setup.EncryptedShare, _publicKey, ringPedersen);
            _x1 = null;
            _r1 = null;
            var reply = new RefreshServerShare(_curve.EncodeScalar(r1), _salt!, _curve.EncodePoint(q1), setup);
            _salt = null; // opened: the reply owns it now (a caller may dispose the session before it sends the reply)
            return reply;
        });

    /// <summary>
    /// Round 5: the client's proof of x2' with x1'·Q2' = Q. Returns the new share, which the caller stores in
    /// place of (or beside) the old one; any failure leaves the old share as the only one.
    /// </summary>
    public ServerKeyShare HandleConfirmation(RefreshConfirmation message) =>
        _gate.Step(nameof(RefreshConfirmation), State.SharedProofs, State.Completed, () =>
        {
            ServerKeyShare pending = _pending!;
            ECPoint q2 = _curve.DecodePoint(message.Q2, "Q2");
            message.Q2Proof.Verify(_curve, q2, _clientContext!, ProofPurposes.RefreshShare);
            if (!_curve.MultiplySecret(q2, pending.X1).Equals(_publicKey))
            {
                throw new MpcProtocolException(MpcErrorCode.SessionMismatch,
                    "Session mismatch: the client's new share does not complete the key's public key.");
            }
            _pending = null;
            return pending;
        });

    /// <summary>Forgets x1 and r1, zeroes the commitment salt of a session dropped before it opened its commitment, and disposes an unconfirmed new share.</summary>
    public void Dispose()
    {
        _x1 = null;
        _r1 = null;
        if (_salt is not null)
        {
            CryptographicOperations.ZeroMemory(_salt);
            _salt = null;
        }
        _pending?.Dispose();
        _pending = null;
    }

    public override string ToString() => $"RefreshServerSession({KeyId}, {TargetDeviceId}, {_purpose}, {_gate.State})";
}
