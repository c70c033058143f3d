using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Org.BouncyCastle.Math;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Protocol.Tests;

/// <summary>Every refusal of signing, each asserting the specific error code or the freeze outcome.</summary>
[Collection("engine")]
public sealed class SigningAdversarialTests(EngineFixture engine)
{
    private const CurveKind Curve = CurveKind.P256;
    private static readonly EcCurve C = EcCurve.Get(Curve);

    private TwoPartyKey Key => engine.Key(Curve);

    private static MpcErrorCode Refusal(Action action) => Assert.Throws<MpcProtocolException>(action).Code;

    private (SignServerSession Server, SignClientSession Client, SignNonce Nonce) AtNonce(bool lowS = false)
    {
        var server = new SignServerSession(Key.Server);
        var client = new SignClientSession(Key.Client, RandomNumberGenerator.GetBytes(32), lowS);
        return (server, client, client.HandleCommitment(server.Commitment));
    }

    private (SignServerSession Server, SignClientSession Client, SignOpening Opening) AtOpening(bool lowS = false)
    {
        (SignServerSession server, SignClientSession client, SignNonce nonce) = AtNonce(lowS);
        return (server, client, server.HandleNonce(nonce));
    }

    private (SignServerSession Server, SignClientSession Client, SignCiphertext Ciphertext) AtCiphertext(bool lowS = false)
    {
        (SignServerSession server, SignClientSession client, SignOpening opening) = AtOpening(lowS);
        return (server, client, client.HandleOpening(opening));
    }

    // ---- the server's checks of the client's nonce message ----

    [Fact]
    public void R2_off_the_curve_is_refused()
    {
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        Assert.Equal(MpcErrorCode.InvalidPoint, Refusal(() => server.HandleNonce(nonce with { R2 = Points.OffCurve(Curve) })));
    }

    [Fact]
    public void R2_identity_is_refused()
    {
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        Assert.Equal(MpcErrorCode.InvalidPoint, Refusal(() => server.HandleNonce(nonce with { R2 = new byte[33] })));
    }

    [Fact]
    public void R2_from_another_curve_is_refused()
    {
        // Same length as a P-256 point; pick a secp256k1 point whose x has no square root on P-256.
        EcCurve k1 = EcCurve.Get(CurveKind.Secp256k1);
        byte[] foreign = Enumerable.Range(2, 64)
            .Select(i => k1.EncodePoint(k1.MultiplyBase(BigInteger.ValueOf(i))))
            .First(encoded => !DecodesOn(C, encoded));
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        Assert.Equal(MpcErrorCode.InvalidPoint, Refusal(() => server.HandleNonce(nonce with { R2 = foreign })));
    }

    private static bool DecodesOn(EcCurve curve, byte[] encoded)
    {
        try
        {
            curve.DecodePoint(encoded, "probe");
            return true;
        }
        catch (MpcProtocolException)
        {
            return false;
        }
    }

    [Fact]
    public void R2_with_x_beyond_the_field_is_refused()
    {
        byte[] encoded = new byte[33];
        encoded[0] = 0x02;
        encoded.AsSpan(1).Fill(0xFF);
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        Assert.Equal(MpcErrorCode.InvalidPoint, Refusal(() => server.HandleNonce(nonce with { R2 = encoded })));
    }

    [Fact]
    public void R2_proof_tampered_is_refused()
    {
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleNonce(nonce with { R2Proof = Points.TamperResponse(nonce.R2Proof, Curve) })));
    }

    [Fact]
    public void R2_with_proof_from_another_session_is_refused()
    {
        (_, _, SignNonce old) = AtNonce();
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleNonce(nonce with { R2 = old.R2, R2Proof = old.R2Proof })));
    }

    [Fact]
    public void R2_proof_with_another_client_nonce_is_refused()
    {
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleNonce(nonce with { ClientNonce = RandomNumberGenerator.GetBytes(32) })));
    }

    [Fact]
    public void Nonce_message_for_another_server_session_is_refused()
    {
        (_, _, SignNonce other) = AtNonce();
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        Assert.Equal(MpcErrorCode.SessionMismatch, Refusal(() => server.HandleNonce(nonce with { ServerSessionId = other.ServerSessionId })));
    }

    [Fact]
    public void Replayed_nonce_message_is_refused_and_never_reopens_R1()
    {
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        server.HandleNonce(nonce);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleNonce(nonce)));
    }

    [Fact]
    public void Second_nonce_with_a_different_R2_is_refused()
    {
        // Two R2 against one k1 would give two equations in k1⁻¹ and k1⁻¹·x: the key would leak.
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        server.HandleNonce(nonce);
        var other = new SignClientSession(Key.Client, nonce.Digest);
        SignNonce second = other.HandleCommitment(server.Commitment);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleNonce(second)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(31)]
    [InlineData(33)]
    public void Digest_of_wrong_length_is_refused(int length)
    {
        (SignServerSession server, _, SignNonce nonce) = AtNonce();
        Assert.Equal(MpcErrorCode.InvalidDigest, Refusal(() => server.HandleNonce(nonce with { Digest = new byte[length] })));
    }

    [Fact]
    public void Client_session_refuses_a_bad_digest_up_front() =>
        Assert.Equal(MpcErrorCode.InvalidDigest, Refusal(() => _ = new SignClientSession(Key.Client, new byte[31])));

    [Fact]
    public void Low_s_flag_other_than_zero_or_one_is_malformed()
    {
        (_, _, SignNonce nonce) = AtNonce();
        byte[] encoded = nonce.Encode();
        // The flag is the fourth field: skip three length-prefixed fields, then its 4-byte prefix.
        int offset = 4 + 16 + 4 + 32 + 4 + 32 + 4;
        encoded[offset + 3] = 2;
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => SignNonce.Decode(encoded, Curve)));
    }

    [Fact]
    public void Truncated_nonce_message_is_malformed()
    {
        (_, _, SignNonce nonce) = AtNonce();
        byte[] encoded = nonce.Encode();
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => SignNonce.Decode(encoded.AsSpan(0, encoded.Length - 1), Curve)));
    }

    // ---- the server's checks of c3 ----

    [Fact]
    public void Ciphertext_before_nonce_is_refused()
    {
        (SignServerSession server, _, _) = AtNonce();
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleCiphertext(new SignCiphertext(BigInteger.Two))));
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("N squared")]
    [InlineData("negative")]
    [InlineData("multiple of p")]
    public void Ciphertext_outside_Z_N2_star_is_refused_without_freezing(string which)
    {
        (SignServerSession server, _, _) = AtCiphertext();
        PaillierPublicKey paillier = Key.Client.Paillier;
        BigInteger c3 = which switch
        {
            "zero" => BigInteger.Zero,
            "N squared" => paillier.NSquared,
            "negative" => BigInteger.One.Negate(),
            _ => Key.Server.Paillier.P.Multiply(BigInteger.ValueOf(12345)),
        };
        Assert.Equal(MpcErrorCode.InvalidCiphertext, Refusal(() => server.HandleCiphertext(new SignCiphertext(c3))));
    }

    [Fact]
    public void Oversized_ciphertext_is_malformed()
    {
        byte[] encoded = new WireWriter().WriteBigInteger(BigInteger.One.ShiftLeft(9000)).ToArray();
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => SignCiphertext.Decode(encoded)));
    }

    [Fact]
    public void Altered_ciphertext_yields_the_freeze_outcome()
    {
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        PaillierPublicKey paillier = Key.Client.Paillier;
        SignServerOutcome outcome = server.HandleCiphertext(new SignCiphertext(paillier.Add(ciphertext.C3, paillier.Encrypt(BigInteger.One))));
        Assert.True(outcome.KeyMustBeFrozen);
        Assert.Null(outcome.Message);
        Assert.Null(outcome.Signature);
    }

    [Fact]
    public void Abort_attack_ciphertext_yields_the_freeze_outcome()
    {
        // CVE-2023-33242: the client multiplies c_key by a + q·K instead of a. Mod q nothing changes, but when
        // x1·q·K exceeds N the plaintext wraps and the signature breaks: success or failure leaks a bit of x1.
        // Here K makes the wrap certain, so the server must report the key for freezing, not a signature.
        var attacker = new AbortAttackClient(Key);
        var server = new SignServerSession(Key.Server);
        SignOpening opening = server.HandleNonce(attacker.Nonce(server.Commitment));
        int kBits = Key.Client.Paillier.BitLength - C.Order.BitLength - Key.Server.X1.BitLength + 2;
        SignServerOutcome outcome = server.HandleCiphertext(attacker.Ciphertext(opening, BigInteger.One.ShiftLeft(kBits)));
        Assert.True(outcome.KeyMustBeFrozen);
        Assert.Null(outcome.Message);
    }

    [Fact]
    public void Abort_attack_probe_that_does_not_wrap_still_signs_which_is_why_one_failure_must_freeze()
    {
        // The same crafted multiplier with a small K does not wrap: the signature verifies. The only
        // difference the attacker sees is success versus failure, so a single failure must end the key.
        var attacker = new AbortAttackClient(Key);
        var server = new SignServerSession(Key.Server);
        SignOpening opening = server.HandleNonce(attacker.Nonce(server.Commitment));
        SignServerOutcome outcome = server.HandleCiphertext(attacker.Ciphertext(opening, BigInteger.ValueOf(3)));
        Assert.False(outcome.KeyMustBeFrozen);
    }

    [Fact]
    public void Ciphertext_after_the_outcome_is_refused()
    {
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        Assert.False(server.HandleCiphertext(ciphertext).KeyMustBeFrozen);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleCiphertext(ciphertext)));
    }

    [Fact]
    public void Ciphertext_after_a_freeze_is_refused()
    {
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        PaillierPublicKey paillier = Key.Client.Paillier;
        Assert.True(server.HandleCiphertext(new SignCiphertext(paillier.Add(ciphertext.C3, paillier.Encrypt(BigInteger.Two)))).KeyMustBeFrozen);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleCiphertext(ciphertext)));
    }

    // ---- the client's checks of the server ----

    [Fact]
    public void R1_other_than_committed_is_refused()
    {
        (_, SignClientSession client, SignOpening opening) = AtOpening();
        Assert.Equal(MpcErrorCode.CommitmentMismatch, Refusal(() => client.HandleOpening(opening with { R1 = C.EncodePoint(C.MultiplyBase(BigInteger.Two)) })));
    }

    [Fact]
    public void Opening_with_another_salt_is_refused()
    {
        (_, SignClientSession client, SignOpening opening) = AtOpening();
        byte[] salt = (byte[])opening.CommitmentSalt.Clone();
        salt[0] ^= 0x80;
        Assert.Equal(MpcErrorCode.CommitmentMismatch, Refusal(() => client.HandleOpening(opening with { CommitmentSalt = salt })));
    }

    [Fact]
    public void R1_proof_tampered_is_refused()
    {
        (_, SignClientSession client, SignOpening opening) = AtOpening();
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => client.HandleOpening(opening with { R1Proof = Points.TamperResponse(opening.R1Proof, Curve) })));
    }

    [Fact]
    public void R1_proof_from_another_session_is_refused()
    {
        (_, _, SignOpening old) = AtOpening();
        (_, SignClientSession client, SignOpening opening) = AtOpening();
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => client.HandleOpening(opening with { R1Proof = old.R1Proof })));
    }

    [Fact]
    public void Replayed_opening_is_refused_by_the_client()
    {
        (_, SignClientSession client, SignOpening opening) = AtOpening();
        client.HandleOpening(opening);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => client.HandleOpening(opening)));
    }

    [Fact]
    public void Result_with_altered_s_is_refused()
    {
        (SignServerSession server, SignClientSession client, SignCiphertext ciphertext) = AtCiphertext();
        SignResult result = server.HandleCiphertext(ciphertext).Message!;
        byte[] s = C.EncodeScalar(new BigInteger(1, result.S).Add(BigInteger.One));
        Assert.Equal(MpcErrorCode.SignatureCheckFailed, Refusal(() => client.HandleResult(result with { S = s })));
    }

    [Fact]
    public void Result_with_s_zero_is_refused()
    {
        (SignServerSession server, SignClientSession client, SignCiphertext ciphertext) = AtCiphertext();
        SignResult result = server.HandleCiphertext(ciphertext).Message!;
        Assert.Equal(MpcErrorCode.ScalarOutOfRange, Refusal(() => client.HandleResult(result with { S = new byte[32] })));
    }

    [Fact]
    public void Result_with_s_equal_to_q_is_refused()
    {
        (SignServerSession server, SignClientSession client, SignCiphertext ciphertext) = AtCiphertext();
        SignResult result = server.HandleCiphertext(ciphertext).Message!;
        Assert.Equal(MpcErrorCode.ScalarOutOfRange, Refusal(() => client.HandleResult(result with { S = C.EncodeScalar(C.Order) })));
    }

    [Fact]
    public void Result_with_wrong_recovery_id_is_refused()
    {
        (SignServerSession server, SignClientSession client, SignCiphertext ciphertext) = AtCiphertext();
        SignResult result = server.HandleCiphertext(ciphertext).Message!;
        Assert.Equal(MpcErrorCode.SignatureCheckFailed, Refusal(() => client.HandleResult(result with { RecoveryId = result.RecoveryId ^ 1 })));
    }

    [Fact]
    public void Result_ignoring_a_low_s_request_is_refused()
    {
        // The server honoured low-S; hand the client the equally valid high-s form instead.
        (SignServerSession server, SignClientSession client, SignCiphertext ciphertext) = AtCiphertext(lowS: true);
        SignResult result = server.HandleCiphertext(ciphertext).Message!;
        BigInteger s = new BigInteger(1, result.S);
        Assert.True(s.CompareTo(C.HalfOrder) <= 0);
        var high = result with { S = C.EncodeScalar(C.Order.Subtract(s)), RecoveryId = result.RecoveryId ^ 1 };
        Assert.Equal(MpcErrorCode.SignatureCheckFailed, Refusal(() => client.HandleResult(high)));
    }

    [Fact]
    public void Result_replayed_is_refused()
    {
        (SignServerSession server, SignClientSession client, SignCiphertext ciphertext) = AtCiphertext();
        SignResult result = server.HandleCiphertext(ciphertext).Message!;
        client.HandleResult(result);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => client.HandleResult(result)));
    }

    [Fact]
    public void Result_with_recovery_id_above_three_is_malformed()
    {
        byte[] encoded = new WireWriter().WriteBytes(new byte[32]).WriteBytes(new byte[32]).WriteUInt32(4).ToArray();
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => SignResult.Decode(encoded, Curve)));
    }

    [Fact]
    public void Opening_before_commitment_is_refused_by_the_client()
    {
        (_, _, SignOpening opening) = AtOpening();
        var client = new SignClientSession(Key.Client, RandomNumberGenerator.GetBytes(32));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => client.HandleOpening(opening)));
    }

    /// <summary>A client that follows the protocol except for the multiplier it applies to c_key.</summary>
    private sealed class AbortAttackClient(TwoPartyKey key)
    {
        private readonly BigInteger _k2 = C.RandomScalar();
        private ProofContext? _context;

        public SignNonce Nonce(SignCommitment commitment)
        {
            byte[] clientNonce = RandomNumberGenerator.GetBytes(32);
            byte[] sessionId = SessionIds.ForSigning(commitment.ServerSessionId, clientNonce, key.Client.KeyId, Curve);
            _context = new ProofContext(sessionId, PartyRole.Client, key.Client.KeyId, Curve);
            ECPoint r2 = C.MultiplyBase(_k2);
            Digest = RandomNumberGenerator.GetBytes(32);
            return new SignNonce(commitment.ServerSessionId, clientNonce, Digest, false, C.EncodePoint(r2),
                DlogProof.Prove(C, _k2, r2, _context, ProofPurposes.SigningNonce));
        }

        public byte[] Digest { get; private set; } = [];

        public SignCiphertext Ciphertext(SignOpening opening, BigInteger k)
        {
            ECPoint r = C.DecodePoint(opening.R1, "R1").Multiply(_k2).Normalize();
            BigInteger q = C.Order;
            BigInteger rx = r.AffineXCoord.ToBigInteger().Mod(q);
            BigInteger k2Inverse = _k2.ModInverse(q);
            BigInteger a = k2Inverse.Multiply(rx).Multiply(key.Client.X2).Mod(q);
            BigInteger b = k2Inverse.Multiply(C.DigestToScalar(Digest)).Mod(q);
            PaillierPublicKey paillier = key.Client.Paillier;
            BigInteger crafted = a.Add(q.Multiply(k));
            BigInteger c3 = paillier.Add(paillier.Encrypt(b), paillier.Multiply(key.Client.EncryptedServerShare, crafted));
            return new SignCiphertext(c3);
        }
    }
}
