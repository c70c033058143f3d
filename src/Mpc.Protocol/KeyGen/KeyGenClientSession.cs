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

namespace Mpc.Protocol.KeyGen;

/// <summary>
/// The client's (P2's) side of distributed key generation. The client verifies every claim the server
/// makes about its Paillier key and c_key before accepting the key.
/// </summary>
public sealed class KeyGenClientSession : IDisposable
{
    private enum State { Initial, Requested, SharedNonce, Completed, Failed }

    private readonly SessionGate<State> _gate = new(State.Initial, State.Failed);
    private readonly EcCurve _curve;
    private RingPedersenSecret? _auxiliary;
    private RingPedersenParameters? _parameters; // set in round 3 when the secret is supplied later
    private readonly IBigNumBackend _backend;
    private byte[]? _clientNonce;
    private string? _keyId;
    private byte[]? _commitment;
    private ProofContext? _serverContext;
    private BigInteger? _x2;

    /// <param name="curve">The curve of the new key.</param>
    /// <param name="auxiliary">
    /// The client's ring-Pedersen secret: generated once per device (safe primes are slow) and reused,
    /// since these parameters protect only the client, who made them.
    /// </param>
    /// <param name="backend">Big-number backend for verifying the server's proofs.</param>
    public KeyGenClientSession(CurveKind curve, RingPedersenSecret auxiliary, IBigNumBackend backend)
        : this(curve, backend)
    {
        _auxiliary = auxiliary;
    }

    /// <summary>
    /// A session whose ring-Pedersen secret is given to <see cref="HandleCommitment(KeyGenCommitment, RingPedersenSecret)"/>:
    /// round 1 does not use it, so a client can load it (an Argon2id) while its first message is in flight.
    /// </summary>
    public KeyGenClientSession(CurveKind curve, IBigNumBackend backend)
    {
        _curve = EcCurve.Get(curve);
        _backend = backend;
    }

    /// <summary>Round 1: the curve and a fresh client nonce.</summary>
    public KeyGenRequest Start() =>
        _gate.Step("start", State.Initial, State.Requested, () =>
        {
            _clientNonce = RandomNumberGenerator.GetBytes(ProtocolLimits.NonceLength);
            return new KeyGenRequest(_curve.Kind, _clientNonce);
        });

    /// <summary>Round 2 → 3: records the server's commitment, then reveals Q2 and the auxiliary parameters.</summary>
    public KeyGenClientShare HandleCommitment(KeyGenCommitment message) =>
        HandleCommitment(message, _auxiliary ?? throw new InvalidOperationException("This session was made without its ring-Pedersen secret: pass it here."));

    /// <summary>Round 2 → 3 with the client's ring-Pedersen secret given now (see <see cref="KeyGenClientSession(CurveKind, IBigNumBackend)"/>).</summary>
    public KeyGenClientShare HandleCommitment(KeyGenCommitment message, RingPedersenSecret auxiliary)
    {
        ArgumentNullException.ThrowIfNull(auxiliary);
        if (_auxiliary is not null && !ReferenceEquals(_auxiliary, auxiliary))
        {
            throw new ArgumentException("This session was made with another ring-Pedersen secret.", nameof(auxiliary));
        }
        return Round3(message, auxiliary.Parameters, auxiliary);
    }

    /// <summary>
    /// Round 2 → 3 while the client's ring-Pedersen secret is still being opened (a device profile's Argon2id): only
    /// when the server names <paramref name="parameters"/> as verified, so that no Πprm is due (check with
    /// <see cref="KeyGenCommitment.Names"/> first; otherwise this throws and the session stays as it was).
    /// <see cref="Supply"/> must then hand over the matching secret before round 4, whose checks use it.
    /// </summary>
    public KeyGenClientShare HandleCommitment(KeyGenCommitment message, RingPedersenParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(parameters);
        if (_auxiliary is not null || !message.Names(parameters))
        {
            throw new InvalidOperationException("Round 3 without the secret needs a session made without it and parameters the server names as verified.");
        }
        return Round3(message, parameters, null);
    }

    /// <summary>
    /// Hands the session of <see cref="HandleCommitment(KeyGenCommitment, RingPedersenParameters)"/> the secret it
    /// went on without. Refused, and the session fails, unless its parameters are exactly the ones round 3 revealed:
    /// they came from a clear header that only this opening authenticates.
    /// </summary>
    public void Supply(RingPedersenSecret auxiliary)
    {
        ArgumentNullException.ThrowIfNull(auxiliary);
        if (_auxiliary is not null || _parameters is null)
        {
            throw new InvalidOperationException("Only a session that went on without its secret takes it later, once.");
        }
        if (!auxiliary.Parameters.Equals(_parameters))
        {
            _gate.Close();
            throw new MpcProtocolException(MpcErrorCode.SessionMismatch,
                "Session mismatch: the opened device parameters differ from the ones key generation started from.");
        }
        _auxiliary = auxiliary;
    }

    private KeyGenClientShare Round3(KeyGenCommitment message, RingPedersenParameters parameters, RingPedersenSecret? auxiliary) =>
        _gate.Step(nameof(KeyGenCommitment), State.Requested, State.SharedNonce, () =>
        {
            KeyIds.Require(message.KeyId);
            if (message.ServerNonce.Length != ProtocolLimits.NonceLength || message.Commitment.Length != HashCommitment.DigestLength)
            {
                throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Malformed message: key generation commitment fields have wrong sizes.");
            }
            _auxiliary = auxiliary;
            _parameters = auxiliary is null ? parameters : null;
            _keyId = message.KeyId;
            _commitment = message.Commitment;
            byte[] sessionId = SessionIds.ForKeyGen(_clientNonce, message.ServerNonce, _keyId, _curve.Kind);
            var clientContext = new ProofContext(sessionId, PartyRole.Client, _keyId, _curve.Kind);
            _serverContext = clientContext.ForProver(PartyRole.Server);

            _x2 = _curve.RandomScalar();
            ECPoint q2 = _curve.MultiplyBase(_x2);
            return new KeyGenClientShare(
                _curve.EncodePoint(q2),
                DlogProof.Prove(_curve, _x2, q2, clientContext, ProofPurposes.KeyShare),
                parameters,
                // Proved again only when the server does not already hold them as verified: the proof is the device's
                // heaviest step of this round (docs/protocol.md, "Client parameters the server already verified").
                message.Names(parameters) ? null : RingPedersenProof.Prove(auxiliary!, clientContext));
        });

    /// <summary>
    /// Round 4: opens and checks Q1, then the Paillier modulus (Paillier–Blum, no small factor, size for the
    /// ranges), that c_key encrypts log_G(Q1) in range, and the server's ring-Pedersen parameters (Πprm).
    /// Only then is the key accepted.
    /// </summary>
    public ClientKeyShare HandleServerShare(KeyGenServerShare message) =>
        _gate.Step(nameof(KeyGenServerShare), State.SharedNonce, State.Completed, () =>
        {
            RingPedersenSecret auxiliary = _auxiliary
                ?? throw new InvalidOperationException("Supply the device's ring-Pedersen secret before the server's share is handled.");
            ProofContext context = _serverContext!;
            if (!HashCommitment.Verify(context, ProofPurposes.KeyShare, _commitment, message.CommittedPayload(), message.CommitmentSalt))
            {
                throw ProtocolError.CommitmentMismatch("Q1");
            }
            ECPoint q1 = _curve.DecodePoint(message.Q1, "Q1");
            message.Q1Proof.Verify(_curve, q1, context, ProofPurposes.KeyShare);

            PaillierPublicKey paillier = message.Setup.Verify(_curve, q1, auxiliary, context, _backend);

            BigInteger x2 = _x2!;
            ECPoint publicKey = _curve.MultiplySecret(q1, x2);
            _curve.ValidatePoint(publicKey, "joint public key");
            _x2 = null;
            return new ClientKeyShare(_keyId!, _curve.Kind, x2, paillier, message.Setup.EncryptedShare, publicKey, message.Setup.ServerRingPedersen);
        });

    public void Dispose() => _x2 = null;

    public override string ToString() => $"KeyGenClientSession({_keyId ?? "new"}, {_gate.State})";
}
