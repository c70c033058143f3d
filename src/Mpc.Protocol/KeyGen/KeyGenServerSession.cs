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

namespace Mpc.Protocol.KeyGen;

/// <summary>
/// The server's (P1's) side of distributed key generation. No party ever holds the whole key:
/// the server ends with x1 and the Paillier secret key, the client with x2, both with Q = x1·x2·G.
/// </summary>
public sealed class KeyGenServerSession : IDisposable
{
    private enum State { AwaitingRequest, Committed, Completed, Failed }

    private readonly SessionGate<State> _gate = new(State.AwaitingRequest, State.Failed);
    private readonly IBigNumBackend _backend;
    private readonly int _paillierModulusBits;
    private EcCurve? _curve;
    private ProofContext? _serverContext;
    private ProofContext? _clientContext;
    private BigInteger? _x1;
    private ECPoint? _q1;
    private DlogProof? _q1Proof;
    private byte[]? _salt;
    private KnownParametersPin? _pin;

    /// <param name="keyId">1–64 characters from [A-Za-z0-9_-]; chosen by the server.</param>
    /// <param name="backend">Big-number backend for the Paillier work.</param>
    /// <param name="paillierModulusBits">An even number of bits from 2048 (default) to 4096.</param>
    public KeyGenServerSession(string keyId, IBigNumBackend backend, int paillierModulusBits = 2048)
    {
        KeyIds.Require(keyId);
        KeyId = keyId;
        _backend = backend;
        _paillierModulusBits = paillierModulusBits;
    }

    public string KeyId { get; }

    /// <summary>
    /// Where the fresh Paillier key comes from: the server's pool of ready keys (<see cref="PaillierKeyPool"/>), or
    /// inline generation by default. Each key taken is used for this session only.
    /// </summary>
    public IPaillierKeySource PaillierKeys { get; init; } = FreshPaillierKeys.Instance;

    /// <summary>
    /// The client ring-Pedersen parameters this server already verified for the user (<see cref="VerifiedRingPedersenCache"/>):
    /// a known set skips its Πprm verification, never its shape checks. Null verifies every time.
    /// </summary>
    public VerifiedRingPedersenScope? KnownClientParameters { get; init; }

    /// <summary>Overrides <see cref="PaillierKeys"/>: tests substitute malformed keys to play a cheating server.</summary>
    internal Func<IBigNumBackend, int, PaillierPrivateKey>? PaillierFactory { get; init; }

    /// <summary>Round 1 → 2: fixes x1 and commits to Q1 and its proof before seeing anything of x2.</summary>
    public KeyGenCommitment HandleRequest(KeyGenRequest request) =>
        _gate.Step(nameof(KeyGenRequest), State.AwaitingRequest, State.Committed, () =>
        {
            if (request.ClientNonce.Length != ProtocolLimits.NonceLength)
            {
                throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Malformed message: client nonce must be 32 bytes.");
            }
            _curve = EcCurve.Get(request.Curve);
            byte[] serverNonce = RandomNumberGenerator.GetBytes(ProtocolLimits.NonceLength);
            byte[] sessionId = SessionIds.ForKeyGen(request.ClientNonce, serverNonce, KeyId, _curve.Kind);
            _serverContext = new ProofContext(sessionId, PartyRole.Server, KeyId, _curve.Kind);
            _clientContext = _serverContext.ForProver(PartyRole.Client);

            _x1 = _curve.RandomScalar();
            _q1 = _curve.MultiplyBase(_x1);
            _q1Proof = DlogProof.Prove(_curve, _x1, _q1, _serverContext, ProofPurposes.KeyShare);
            byte[] commitment = HashCommitment.Commit(_serverContext, ProofPurposes.KeyShare,
                KeyGenServerShare.CommittedPayload(_curve.EncodePoint(_q1), _q1Proof), out _salt);
            _pin = KnownClientParameters?.Pin();
            return new KeyGenCommitment(KeyId, serverNonce, commitment, _pin?.NamesFor(serverNonce) ?? []);
        });

    /// <summary>
    /// Round 3 → 4: checks Q2 and its proof, checks the client's ring-Pedersen parameters and their proof,
    /// then opens Q1 and sends N, c_key = Enc(x1), the server's ring-Pedersen (s, t) over N and the proofs about them.
    /// </summary>
    public KeyGenServerOutput HandleClientShare(KeyGenClientShare message) =>
        _gate.Step(nameof(KeyGenClientShare), State.Committed, State.Completed, () =>
        {
            EcCurve curve = _curve!;
            ECPoint q2 = curve.DecodePoint(message.Q2, "Q2");
            message.Q2Proof.Verify(curve, q2, _clientContext!, ProofPurposes.KeyShare);
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

            BigInteger x1 = _x1!;
            ECPoint publicKey = curve.MultiplySecret(q2, x1);
            curve.ValidatePoint(publicKey, "joint public key");

            PreparedPaillierKey prepared = PaillierFactory is { } factory
                ? PreparedPaillierKey.Inline(factory(_backend, _paillierModulusBits))
                : PaillierKeys.TakePrepared(_backend, _paillierModulusBits);
            PaillierPrivateKey paillier = prepared.Key;
            var setup = EncryptedShareSetup.Create(curve, prepared, x1, auxiliary, _serverContext!, out RingPedersenSecret ringPedersen);
            var reply = new KeyGenServerShare(curve.EncodePoint(_q1!), _q1Proof!, _salt!, setup);
            var share = new ServerKeyShare(KeyId, curve.Kind, x1, paillier, setup.EncryptedShare, publicKey, ringPedersen);
            _x1 = null;
            _salt = null; // opened: the reply owns it now (a caller may dispose the session before it sends the reply)
            return new KeyGenServerOutput(reply, share);
        });

    /// <summary>Forgets x1 and zeroes the commitment salt of a session dropped before it opened its commitment.</summary>
    public void Dispose()
    {
        _x1 = null;
        if (_salt is not null)
        {
            CryptographicOperations.ZeroMemory(_salt);
            _salt = null;
        }
    }

    public override string ToString() => $"KeyGenServerSession({KeyId}, {_gate.State})";
}

/// <summary>The server's last key generation message and the share it keeps.</summary>
public sealed class KeyGenServerOutput(KeyGenServerShare message, ServerKeyShare share)
{
    public KeyGenServerShare Message { get; } = message;

    public ServerKeyShare Share { get; } = share;

    public override string ToString() => $"KeyGenServerOutput({Share})";
}
