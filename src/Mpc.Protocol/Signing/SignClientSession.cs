using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using RandomNumberGenerator = System.Security.Cryptography.RandomNumberGenerator;

namespace Mpc.Protocol.Signing;

/// <summary>
/// The client's (P2's) side of one signature: a fresh k2, a check of the server's opening, the homomorphic
/// c3 with its proof of well-formedness (Πaff-g), and a final check that the server's signature verifies under
/// the joint public key.
/// </summary>
public sealed class SignClientSession
{
    private enum State { AwaitingCommitment, NonceSent, CiphertextSent, Finished, Failed }

    private readonly SessionGate<State> _gate = new(State.AwaitingCommitment, State.Failed);
    private readonly ClientKeyShare _key;
    private readonly EcCurve _curve;
    private readonly Digest _digest;
    private readonly bool _lowS;
    private readonly RingPedersenParameters _serverRingPedersen;
    private SignCiphertextRandomness? _randomness;
    private SignCommitment? _commitment;
    private ProofContext? _clientContext;
    private BigInteger? _k2;
    private ECPoint? _r2;
    private ECPoint? _r;

    /// <param name="key">The client's key share.</param>
    /// <param name="digest">The message digest to sign.</param>
    /// <param name="lowS">
    /// Ask for s in the lower half of the order (default): the form libsecp256k1 and @noble/curves require on
    /// every curve. False allows either half (plain ECDSA); the signature and its recovery id are checked either way.
    /// </param>
    /// <param name="randomness">
    /// Precomputed single-use randomness of c3 and its proof for this share (<see cref="SignCiphertextRandomness"/>);
    /// null computes it inline (most of the client's exponentiations).
    /// </param>
    /// <exception cref="MpcProtocolException">
    /// <see cref="MpcErrorCode.InvalidRingPedersenParameters"/> for a share made before signing proofs: refresh it first.
    /// </exception>
    public SignClientSession(ClientKeyShare key, Digest digest, bool lowS = true, SignCiphertextRandomness? randomness = null)
    {
        _serverRingPedersen = key.RequireSigningParameters();
        _key = key;
        _curve = EcCurve.Get(key.Curve);
        _digest = digest;
        _lowS = lowS;
        if (randomness is not null && (randomness.IsConsumed || !randomness.IsFor(_curve, key.Paillier, key.EncryptedServerShare, _serverRingPedersen)))
        {
            throw new ArgumentException("Signing randomness is used or belongs to another key share.", nameof(randomness));
        }
        _randomness = randomness;
    }

    /// <summary>Round 1 → 2: a fresh k2 and its proof, bound to the session both sides now share.</summary>
    public SignNonce HandleCommitment(SignCommitment message) =>
        _gate.Step(nameof(SignCommitment), State.AwaitingCommitment, State.NonceSent, () =>
        {
            if (message.ServerSessionId.Length != ProtocolLimits.ServerSessionIdLength || message.Commitment.Length != HashCommitment.DigestLength)
            {
                throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Malformed message: signing commitment fields have wrong sizes.");
            }
            _commitment = message;
            byte[] clientNonce = RandomNumberGenerator.GetBytes(ProtocolLimits.NonceLength);
            byte[] sessionId = SessionIds.ForSigning(message.ServerSessionId, clientNonce, _key.KeyId, _key.Curve);
            _clientContext = new ProofContext(sessionId, PartyRole.Client, _key.KeyId, _key.Curve);
            BigInteger k2 = _curve.RandomScalar();
            _k2 = k2;
            ECPoint r2 = _curve.MultiplyBase(k2);
            _r2 = r2;
            DlogProof proof = DlogProof.Prove(_curve, k2, r2, _clientContext, ProofPurposes.SigningNonce);
            return new SignNonce((byte[])message.ServerSessionId.Clone(), clientNonce, _digest, _lowS, _curve.EncodePoint(r2), proof);
        });

    /// <summary>
    /// Round 3 → 4: R1 must open the commitment and carry a valid proof; then
    /// c3 = c_key^α · Enc(β) with α = k2⁻¹·r·x2 and β = ρ·q + k2⁻¹·m' (fresh ρ and Paillier randomness, which hide
    /// k2 and x2 from the server), and the proof that c3 has exactly this shape: α·R2 = r·Q2, β·R2 = m'·G, α and β
    /// in range. The server decrypts nothing without it.
    /// </summary>
    public SignCiphertext HandleOpening(SignOpening message) =>
        _gate.Step(nameof(SignOpening), State.NonceSent, State.CiphertextSent, () =>
        {
            ProofContext commitmentContext = SignServerSession.CommitmentContext(_commitment!.ServerSessionId, _key);
            if (!HashCommitment.Verify(commitmentContext, ProofPurposes.SigningNonce, _commitment.Commitment, message.R1, message.CommitmentSalt))
            {
                throw ProtocolError.CommitmentMismatch("R1");
            }
            ECPoint r1 = _curve.DecodePoint(message.R1, "R1");
            message.R1Proof.Verify(_curve, r1, _clientContext!.ForProver(PartyRole.Server), ProofPurposes.SigningNonce);

            BigInteger k2 = _k2!;
            _k2 = null;
            ECPoint r = _curve.MultiplySecret(r1, k2);
            _curve.ValidatePoint(r, "R");
            BigInteger q = _curve.Order;
            BigInteger rx = r.AffineXCoord.ToBigInteger().Mod(q);
            if (rx.SignValue == 0)
            {
                throw new MpcProtocolException(MpcErrorCode.ScalarOutOfRange, "R has x ≡ 0 (mod q); start a new session.");
            }
            _r = r;

            BigInteger k2Inverse = _curve.InvertSecret(k2, _key.Paillier.Backend);
            BigInteger messageScalar = _curve.DigestToScalar(_digest);
            BigInteger messageTerm = k2Inverse.Multiply(messageScalar).Mod(q);
            BigInteger alpha = k2Inverse.Multiply(rx).Multiply(_key.X2).Mod(q);
            BigInteger beta = RandomBelow(RangeParameters.MaskBits(_curve)).Multiply(q).Add(messageTerm);
            // The statement's public points: α·R2 = r·Q2 and β·R2 = m'·G.
            ECPoint x1Point = _curve.MultiplyBase(rx.Multiply(_key.X2).Mod(q));
            ECPoint x2Point = _curve.G.Multiply(messageScalar).Normalize();
            PaillierPublicKey paillier = _key.Paillier;
            SignCiphertextRandomness randomness = Interlocked.Exchange(ref _randomness, null)
                ?? SignCiphertextRandomness.Create(_curve, paillier, _key.EncryptedServerShare, _serverRingPedersen);
            byte[] binding = SignProofBinding.For(_key.DeviceId, _digest.Span, _key.ShareId);
            BigInteger c3 = SignCiphertextProof.EncryptAndProve(
                _curve, paillier, _serverRingPedersen, _key.EncryptedServerShare, _r2!, x1Point, x2Point, alpha, beta, randomness,
                _clientContext, binding, out SignCiphertextProof proof);
            _r2 = null;
            return new SignCiphertext(c3, proof);
        });

    /// <summary>Round 5: accepts the server's signature only if it verifies, belongs to this session's R and honours low-S.</summary>
    public EcdsaSignature HandleResult(SignResult message) =>
        _gate.Step(nameof(SignResult), State.CiphertextSent, State.Finished, () =>
        {
            BigInteger r = _curve.DecodeScalar(message.R, "r");
            BigInteger s = _curve.DecodeScalar(message.S, "s");
            if (!r.Equals(_r!.AffineXCoord.ToBigInteger().Mod(_curve.Order)))
            {
                throw new MpcProtocolException(MpcErrorCode.SignatureCheckFailed, "The server's signature is for another nonce.");
            }
            ECPoint point = _curve.VerificationPoint(_key.PublicKey, _digest, r, s)
                ?? throw new MpcProtocolException(MpcErrorCode.SignatureCheckFailed, "The server's signature does not verify.");
            var signature = new EcdsaSignature(r, s, _curve.RecoveryId(point));
            if (_lowS && !signature.IsLowS(_curve))
            {
                throw new MpcProtocolException(MpcErrorCode.SignatureCheckFailed, "The server ignored the low-S request.");
            }
            if (message.RecoveryId != signature.RecoveryId)
            {
                throw new MpcProtocolException(MpcErrorCode.SignatureCheckFailed, "The server's recovery id does not match the signature.");
            }
            return signature;
        });

    public override string ToString() => $"SignClientSession({_key.KeyId}, {_gate.State})";

    private static BigInteger RandomBelow(int bits)
    {
        byte[] buffer = RandomNumberGenerator.GetBytes((bits + 7) / 8);
        try
        {
            return new BigInteger(1, buffer).ShiftRight(buffer.Length * 8 - bits);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
        }
    }
}
