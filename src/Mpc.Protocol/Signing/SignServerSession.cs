using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using CryptographicOperations = System.Security.Cryptography.CryptographicOperations;
using RandomNumberGenerator = System.Security.Cryptography.RandomNumberGenerator;

namespace Mpc.Protocol.Signing;

/// <summary>
/// The server's (P1's) side of one signature. The nonce k1 lives only in this object, is committed to
/// before the client's R2 exists, and is spent by exactly one pass through the rounds: any replayed,
/// repeated or out-of-order message is refused and the session cannot be resumed. Whoever drops a session before it
/// finishes disposes it, which spends it the same way.
/// </summary>
public sealed class SignServerSession : IDisposable
{
    private enum State { Committed, Opened, Verified, Finished, Failed }

    private readonly SessionGate<State> _gate = new(State.Committed, State.Failed);
    private readonly ServerKeyShare _key;
    private readonly EcCurve _curve;
    private readonly byte[] _serverSessionId;
    private readonly ProofContext _commitmentContext;
    private readonly string _deviceId;
    private BigInteger? _k1;
    private ECPoint? _r1;
    private byte[]? _salt;
    private Digest? _digest;
    private bool _lowS;
    private ECPoint? _r;
    private ECPoint? _r2;
    private ProofContext? _clientContext;
    private BigInteger? _c3;

    /// <param name="key">The server's share of the key pair the client signs with.</param>
    /// <param name="deviceId">The device whose share pair this is; the client's c3 proof is bound to it.</param>
    public SignServerSession(ServerKeyShare key, string deviceId = ClientKeyShare.PrimaryDevice)
    {
        _key = key;
        _deviceId = deviceId;
        _curve = EcCurve.Get(key.Curve);
        _serverSessionId = RandomNumberGenerator.GetBytes(ProtocolLimits.ServerSessionIdLength);
        _commitmentContext = new ProofContext(CommitmentSessionId(_serverSessionId), PartyRole.Server, key.KeyId, key.Curve);
        _k1 = _curve.RandomScalar();
        _r1 = _curve.MultiplyBase(_k1);
        byte[] commitment = HashCommitment.Commit(_commitmentContext, ProofPurposes.SigningNonce, _curve.EncodePoint(_r1), out _salt);
        Commitment = new SignCommitment((byte[])_serverSessionId.Clone(), commitment);
    }

    /// <summary>Round 1: the commitment to R1, ready to hand out before the client asks.</summary>
    public SignCommitment Commitment { get; }

    /// <summary>Hex of the server's session id: the handle transports route later rounds by.</summary>
    public string SessionId => Convert.ToHexStringLower(_serverSessionId);

    /// <summary>Bit length of the key's Paillier modulus: the bound for decoding this session's <see cref="SignCiphertext"/>.</summary>
    public int PaillierModulusBits => _key.PaillierModulusBits;

    /// <summary>
    /// Round 2 → 3: checks R2 and its proof (the digest was checked when the message was decoded) (bound to the joint session id), then opens R1
    /// with a proof of k1 bound to the same session.
    /// </summary>
    public SignOpening HandleNonce(SignNonce message) =>
        _gate.Step(nameof(SignNonce), State.Committed, State.Opened, () =>
        {
            RequireSession(message.ServerSessionId);
            if (message.ClientNonce.Length != ProtocolLimits.NonceLength)
            {
                throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Malformed message: client nonce must be 32 bytes.");
            }
            ECPoint r2 = _curve.DecodePoint(message.R2, "R2");
            byte[] sessionId = SessionIds.ForSigning(_serverSessionId, message.ClientNonce, _key.KeyId, _key.Curve);
            var serverContext = new ProofContext(sessionId, PartyRole.Server, _key.KeyId, _key.Curve);
            message.R2Proof.Verify(_curve, r2, serverContext.ForProver(PartyRole.Client), ProofPurposes.SigningNonce);

            BigInteger k1 = _k1!;
            ECPoint r = _curve.MultiplySecret(r2, k1);
            _curve.ValidatePoint(r, "R");
            if (r.AffineXCoord.ToBigInteger().Mod(_curve.Order).SignValue == 0)
            {
                throw new MpcProtocolException(MpcErrorCode.ScalarOutOfRange, "R has x ≡ 0 (mod q); start a new session.");
            }
            _r = r;
            _r2 = r2;
            _clientContext = serverContext.ForProver(PartyRole.Client);
            _digest = message.Digest;
            _lowS = message.LowS;
            var proof = Crypto.Proofs.DlogProof.Prove(_curve, k1, _r1!, serverContext, ProofPurposes.SigningNonce);
            return new SignOpening(_curve.EncodePoint(_r1!), _salt!, proof);
        });

    /// <summary>
    /// Round 4 → 5 in one call: <see cref="VerifyCiphertext"/> then <see cref="DecryptAndVerify"/>, for callers that
    /// record nothing between the two.
    /// </summary>
    public SignServerOutcome HandleCiphertext(SignCiphertext message)
    {
        VerifyCiphertext(message);
        return DecryptAndVerify();
    }

    /// <summary>The tag a final-check marker of this session's record carries (<see cref="FinalCheck.Tag"/>).</summary>
    public byte[] FinalCheckTag(FinalCheckRecord record) => FinalCheck.Tag(_key, _deviceId, record);

    /// <summary>
    /// Round 4, first half: verifies the proof that c3 = c_key^α · Enc(β) with α·R2 = r·Q2, β·R2 = m'·G and α, β in
    /// range (bound to this session, key, device, digest and share pair). A c3 without a valid proof is refused with
    /// <see cref="MpcErrorCode.ProofFailed"/>, nothing is decrypted, the key is not frozen (nothing leaked) and k1 is
    /// spent. Decrypts nothing either way; returns what a re-run of the final check needs (stored before decryption).
    /// </summary>
    public FinalCheckRecord VerifyCiphertext(SignCiphertext message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            return _gate.Step(nameof(SignCiphertext), State.Opened, State.Verified, () =>
            {
                BigInteger r = _r!.AffineXCoord.ToBigInteger().Mod(_curve.Order);
                VerifyProof(message, r);
                _c3 = message.C3;
                return new FinalCheckRecord(
                    message.C3.ToByteArrayUnsigned(), _curve.EncodePoint(_r2!), _curve.EncodeScalar(r), _digest!.ToArray());
            });
        }
        catch
        {
            Spend();
            throw;
        }
    }

    /// <summary>
    /// Round 4, second half (only after <see cref="VerifyCiphertext"/> accepted): decrypts c3 (centred; the accepted
    /// proof makes it the exact integer α·x1 + β), finishes s = k1⁻¹·s' and verifies (r, s) against the public key before
    /// releasing it. A signature that still does not verify is the second line against the Lindell17 abort attack: the
    /// outcome is <see cref="SignServerOutcome.KeyMustBeFrozen"/> and no signature leaves. Either way k1 is spent.
    /// </summary>
    public SignServerOutcome DecryptAndVerify()
    {
        try
        {
            return _gate.Step("decryption", State.Verified, State.Finished, () =>
            {
                BigInteger k1 = _k1!;
                _k1 = null;
                BigInteger q = _curve.Order;
                BigInteger r = _r!.AffineXCoord.ToBigInteger().Mod(q);
                BigInteger sPrime = SignCiphertextProof.DecryptCentred(_key.Paillier, _c3!).Mod(q);
                _c3 = null;
                BigInteger s = _curve.InvertSecret(k1, _key.Paillier.PublicKey.Backend).Multiply(sPrime).Mod(q);
                if (s.SignValue == 0 || !_key.Verifier.Verify(_digest!, r, s))
                {
                    return SignServerOutcome.Frozen();
                }
                var signature = new EcdsaSignature(r, s, _curve.RecoveryId(_r!));
                if (_lowS)
                {
                    signature = signature.NormalizeLowS(_curve);
                }
                return SignServerOutcome.Signed(signature, _curve);
            });
        }
        finally
        {
            Spend();
        }
    }

    /// <summary>
    /// Spends a session dropped before it finished (or after; idempotent): k1 is forgotten, the commitment salt zeroed
    /// and every later round refused.
    /// </summary>
    public void Dispose()
    {
        _gate.Close();
        Spend();
    }

    /// <summary>Whether k1 is forgotten and the commitment salt zeroed (tests look).</summary>
    internal bool IsSpent => _k1 is null && !_salt.AsSpan().ContainsAnyExcept((byte)0);

    /// <summary>Forgets k1 (and the commitment salt): after round 4 begins, this session's nonce is never used again.</summary>
    private void Spend()
    {
        _k1 = null;
        if (_salt is not null)
        {
            CryptographicOperations.ZeroMemory(_salt);
        }
    }

    /// <summary>
    /// The statement's public points come from this session and the key alone: R2 and the digest as received in
    /// round 2, X1 = r·Q2 with Q2 = x1⁻¹·Q (cached per key) and X2 = m'·G. Throws <see cref="MpcErrorCode.ProofFailed"/>
    /// and decrypts nothing.
    /// </summary>
    private void VerifyProof(SignCiphertext message, BigInteger r)
    {
        // Public scalars, but OpenSSL's multiplier is several times faster than BouncyCastle's (r ≠ 0 mod q; m' may be 0).
        ECPoint x1Point = _curve.MultiplySecret(_key.ClientSharePoint, r);
        BigInteger mPrime = _curve.DigestToScalar(_digest!);
        ECPoint x2Point = mPrime.Mod(_curve.Order).SignValue == 0 ? _curve.G.Curve.Infinity : _curve.MultiplyBase(mPrime);
        byte[] binding = SignProofBinding.For(_deviceId, _digest!.Span, _key.ShareId);
        message.Proof.VerifyWithShare(
            _curve, _key.Paillier, _key.RingPedersen, _key.EncryptedShare, _key.X1, message.C3, _r2!, x1Point, x2Point, _clientContext!, binding);
    }

    public override string ToString() => $"SignServerSession({_key.KeyId}, {SessionId}, {_gate.State})";

    private void RequireSession(byte[] serverSessionId)
    {
        if (!CryptographicOperations.FixedTimeEquals(serverSessionId, _serverSessionId))
        {
            throw ProtocolError.SessionMismatch("The signing nonce message");
        }
    }

    /// <summary>The commitment is made before the client contributes, so it binds the server's id alone (padded to 32 bytes).</summary>
    private static byte[] CommitmentSessionId(byte[] serverSessionId)
    {
        byte[] id = new byte[32];
        serverSessionId.CopyTo(id, 0);
        return id;
    }

    internal static ProofContext CommitmentContext(byte[] serverSessionId, ClientKeyShare key) =>
        new(CommitmentSessionId(serverSessionId), PartyRole.Server, key.KeyId, key.Curve);
}

/// <summary>What the server's final round produced: a verified signature, or the instruction to freeze the key.</summary>
public sealed class SignServerOutcome
{
    private SignServerOutcome(EcdsaSignature? signature, SignResult? message)
    {
        Signature = signature;
        Message = message;
    }

    /// <summary>
    /// True when the decrypted signature did not verify. The caller must durably mark the key frozen
    /// before it answers anyone, and abort the key's other sessions.
    /// </summary>
    public bool KeyMustBeFrozen => Signature is null;

    public EcdsaSignature? Signature { get; }

    /// <summary>The reply for the client; null when the key must be frozen.</summary>
    public SignResult? Message { get; }

    internal static SignServerOutcome Frozen() => new(null, null);

    internal static SignServerOutcome Signed(EcdsaSignature signature, EcCurve curve) =>
        new(signature, new SignResult(curve.EncodeScalar(signature.R), curve.EncodeScalar(signature.S), signature.RecoveryId));

    public override string ToString() => KeyMustBeFrozen ? "SignServerOutcome(key must be frozen)" : "SignServerOutcome(signed)";
}
