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
        var client = new SignClientSession(Key.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32)), lowS);
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
    public void A_disposed_session_is_spent_and_refuses_its_rounds()
    {
        (SignServerSession unopened, _, SignNonce nonce) = AtNonce();
        Assert.False(unopened.IsSpent);
        unopened.Dispose();
        Assert.True(unopened.IsSpent);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => unopened.HandleNonce(nonce)));
        unopened.Dispose();

        (SignServerSession opened, _, SignCiphertext ciphertext) = AtCiphertext();
        Assert.False(opened.IsSpent);
        opened.Dispose();
        Assert.True(opened.IsSpent);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => opened.HandleCiphertext(ciphertext)));
    }

    [Fact]
    public void A_finished_session_is_spent_before_it_is_disposed()
    {
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        Assert.False(server.HandleCiphertext(ciphertext).KeyMustBeFrozen);
        Assert.True(server.IsSpent);
        server.Dispose();
        Assert.True(server.IsSpent);
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
    [InlineData(65)]
    [InlineData(200)]
    public void Digest_of_wrong_length_is_refused_when_the_nonce_is_decoded(int length)
    {
        (_, _, SignNonce nonce) = AtNonce();
        byte[] encoded = SignNonceWire.WithDigest(nonce, new byte[length]);
        MpcProtocolException refused = Assert.Throws<MpcProtocolException>(() => SignNonce.Decode(encoded, Curve));
        Assert.Equal(MpcErrorCode.InvalidDigest, refused.Code);
        Assert.Equal($"{Digest.LengthRule} (was {length}).", refused.Message);
    }

    [Fact]
    public void Client_session_refuses_a_bad_digest_up_front() =>
        Assert.Equal(MpcErrorCode.InvalidDigest, Refusal(() => _ = new SignClientSession(Key.Client, Digest.Parse(new byte[31]))));

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

    // ---- the server's checks of c3 and its proof (Πaff-g), all before any decryption ----

    private PaillierPublicKey Paillier => Key.Client.Paillier;

    /// <summary>c3 ⊕ c_key^multiplier: what every published abort-attack variant does to an honest c3.</summary>
    private BigInteger Shifted(BigInteger c3, BigInteger multiplier) =>
        Paillier.Add(c3, Paillier.Multiply(Key.Client.EncryptedServerShare, multiplier));

    /// <summary>
    /// A refusal of the c3 proof: the specific code, no outcome (so nothing was decrypted: a decrypted wrapping probe
    /// would have come back as the freeze outcome), and the session spent (k1 gone, never reused).
    /// </summary>
    private static void AssertRefusedBeforeDecryption(SignServerSession server, SignCiphertext ciphertext, SignCiphertext honest)
    {
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleCiphertext(ciphertext)));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleCiphertext(honest)));
    }

    [Fact]
    public void Ciphertext_before_nonce_is_refused()
    {
        (_, _, SignCiphertext other) = AtCiphertext();
        (SignServerSession server, _, _) = AtNonce();
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleCiphertext(other)));
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("N squared")]
    [InlineData("negative")]
    [InlineData("multiple of p")]
    public void Ciphertext_outside_Z_N2_star_is_refused_without_freezing(string which)
    {
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        BigInteger c3 = which switch
        {
            "zero" => BigInteger.Zero,
            "N squared" => Paillier.NSquared,
            "negative" => BigInteger.One.Negate(),
            _ => Key.Server.Paillier.P.Multiply(BigInteger.ValueOf(12345)),
        };
        AssertRefusedBeforeDecryption(server, ciphertext with { C3 = c3 }, ciphertext);
    }

    [Fact]
    public void Oversized_ciphertext_is_malformed()
    {
        (_, _, SignCiphertext ciphertext) = AtCiphertext();
        byte[] encoded = (ciphertext with { C3 = BigInteger.One.ShiftLeft(9000) }).Encode();
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => SignCiphertext.Decode(encoded, Curve, Key.Server.PaillierModulusBits)));
    }

    [Fact]
    public void Ciphertext_with_more_bits_than_N_squared_can_have_is_malformed()
    {
        // N² < 2^(2·|N|): one bit more is refused at decoding, before any arithmetic.
        (_, _, SignCiphertext ciphertext) = AtCiphertext();
        byte[] encoded = (ciphertext with { C3 = BigInteger.One.ShiftLeft(2 * Key.Server.PaillierModulusBits) }).Encode();
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => SignCiphertext.Decode(encoded, Curve, Key.Server.PaillierModulusBits)));
    }

    [Fact]
    public void Ciphertext_with_trailing_bytes_or_cut_short_is_malformed()
    {
        (_, _, SignCiphertext ciphertext) = AtCiphertext();
        byte[] encoded = ciphertext.Encode();
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => SignCiphertext.Decode([.. encoded, 0], Curve, Key.Server.PaillierModulusBits)));
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => SignCiphertext.Decode(encoded.AsSpan(0, encoded.Length - 1), Curve, Key.Server.PaillierModulusBits)));
    }

    [Fact]
    public void Ciphertext_without_a_proof_is_malformed()
    {
        // The previous release's message: c3 alone. It no longer decodes, so it never reaches decryption.
        (_, _, SignCiphertext ciphertext) = AtCiphertext();
        byte[] bare = new WireWriter().WriteBigInteger(ciphertext.C3).ToArray();
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => SignCiphertext.Decode(bare, Curve, Key.Server.PaillierModulusBits)));
    }

    [Fact]
    public void Honest_ciphertext_and_proof_sign_through_the_wire_encoding()
    {
        (SignServerSession server, SignClientSession client, SignCiphertext ciphertext) = AtCiphertext();
        SignServerOutcome outcome = server.HandleCiphertext(SignCiphertext.Decode(ciphertext.Encode(), Curve, Key.Server.PaillierModulusBits));
        Assert.False(outcome.KeyMustBeFrozen);
        Assert.Equal(outcome.Signature, client.HandleResult(outcome.Message!));
    }

    [Fact]
    public void Altered_ciphertext_is_refused_before_decryption()
    {
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        var altered = ciphertext with { C3 = Paillier.Add(ciphertext.C3, Paillier.Encrypt(BigInteger.One)) };
        AssertRefusedBeforeDecryption(server, altered, ciphertext);
    }

    [Fact]
    public void Abort_attack_ciphertext_with_the_original_proof_is_refused_before_decryption()
    {
        // CVE-2023-33242: the client multiplies c_key by a + q·K instead of a. Mod q nothing changes, but when
        // x1·q·K exceeds N the plaintext wraps and the signature breaks: success or failure leaks a bit of x1.
        // Here K makes the wrap certain: before the proof this was the freeze outcome; now it never gets that far.
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        int kBits = Paillier.BitLength - C.Order.BitLength - Key.Server.X1.BitLength + 2;
        var probe = ciphertext with { C3 = Shifted(ciphertext.C3, C.Order.ShiftLeft(kBits)) };
        AssertRefusedBeforeDecryption(server, probe, ciphertext);
    }

    [Fact]
    public void Abort_attack_ciphertext_with_a_recomputed_proof_is_refused_before_decryption()
    {
        // The attacker proves its crafted multiplier honestly: the statement's points still hold (q·R2 = O), but
        // α = a + q·K is far outside the range, so z1 = mask + e·α fails the range check.
        var attacker = new AbortAttackClient(Key);
        var server = new SignServerSession(Key.Server);
        SignOpening opening = server.HandleNonce(attacker.Nonce(server.Commitment));
        int kBits = Paillier.BitLength - C.Order.BitLength - Key.Server.X1.BitLength + 2;
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleCiphertext(attacker.Ciphertext(opening, BigInteger.One.ShiftLeft(kBits)))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(200)]
    [InlineData(255)]
    public void Bit_probe_of_x1_is_refused_before_decryption(int bit)
    {
        // The published bit probe: c3 ⊕ c_key^(q·⌊N/(q·2^(i+1))⌋) wraps exactly when x1 ≥ 2^(i+1) (more generally,
        // with the lower bits already learnt, exactly when bit i of x1 is set). Refused with the original proof and
        // with one recomputed for the crafted multiplier.
        BigInteger k = Paillier.N.Divide(C.Order.ShiftLeft(bit + 1));
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        AssertRefusedBeforeDecryption(server, ciphertext with { C3 = Shifted(ciphertext.C3, C.Order.Multiply(k)) }, ciphertext);

        var attacker = new AbortAttackClient(Key);
        var second = new SignServerSession(Key.Server);
        SignOpening opening = second.HandleNonce(attacker.Nonce(second.Commitment));
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => second.HandleCiphertext(attacker.Ciphertext(opening, k))));
    }

    [Fact]
    public void Threshold_probe_is_refused_before_decryption()
    {
        // c3·c_key^(q·K) with K = ⌈N / (q·T)⌉ makes "the signature verifies" mean "x1 < T": the probe that carried
        // log2(S) bits per freeze. T = q/2 here; refused whatever x1 is, with the original or a recomputed proof.
        BigInteger threshold = C.Order.ShiftRight(1);
        BigInteger k = Paillier.N.Divide(C.Order.Multiply(threshold)).Add(BigInteger.One);
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        AssertRefusedBeforeDecryption(server, ciphertext with { C3 = Shifted(ciphertext.C3, C.Order.Multiply(k)) }, ciphertext);

        var attacker = new AbortAttackClient(Key);
        var second = new SignServerSession(Key.Server);
        SignOpening opening = second.HandleNonce(attacker.Nonce(second.Commitment));
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => second.HandleCiphertext(attacker.Ciphertext(opening, k))));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-3)]
    public void A_crafted_multiplier_the_proof_admits_signs_for_every_x1_so_it_tells_nothing(int k)
    {
        // Inside the proof's slack (|α| a few bits above q, even negative) the centred decryption is the exact
        // integer α·x1 + β, which is right mod q whatever x1 is: the signature verifies, the outcome carries no bit.
        var attacker = new AbortAttackClient(Key);
        var server = new SignServerSession(Key.Server);
        SignOpening opening = server.HandleNonce(attacker.Nonce(server.Commitment));
        SignServerOutcome outcome = server.HandleCiphertext(attacker.Ciphertext(opening, BigInteger.ValueOf(k)));
        Assert.False(outcome.KeyMustBeFrozen);
        Assert.True(IndependentVerifiers.BouncyCastle(Curve, Key.Client.PublicKey, attacker.Digest, outcome.Signature!));
    }

    [Fact]
    public void Valid_ciphertext_with_one_tampered_proof_byte_is_refused()
    {
        // Flip one byte at a spread of positions inside the proof (never in c3): each copy either no longer decodes
        // (a length or sign byte) or fails the proof. None is decrypted, none signs, none freezes.
        (_, _, SignCiphertext template) = AtCiphertext();
        int proofStart = 4 + template.C3.ToByteArray().Length;
        int proofLength = template.Encode().Length - proofStart;
        int failedProofs = 0;
        for (int i = 0; i < 12; i++)
        {
            (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
            byte[] encoded = ciphertext.Encode();
            int position = proofStart + (int)((long)proofLength * (2 * i + 1) / 24);
            encoded[position] ^= 0x01;
            SignCiphertext tampered;
            try
            {
                tampered = SignCiphertext.Decode(encoded, Curve, Key.Server.PaillierModulusBits);
            }
            catch (MpcProtocolException e) when (e.Code is MpcErrorCode.MalformedMessage or MpcErrorCode.InvalidPoint)
            {
                continue;
            }
            Assert.Equal(ciphertext.C3, tampered.C3);
            AssertRefusedBeforeDecryption(server, tampered, ciphertext);
            failedProofs++;
        }
        Assert.True(failedProofs >= 8, $"only {failedProofs} of 12 tampered proofs decoded; the test no longer reaches the verifier");
    }

    [Fact]
    public void Ciphertext_and_proof_replayed_into_another_session_are_refused()
    {
        // Same key, same digest, another session: R2, r and the transcript's session id all differ.
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        var firstServer = new SignServerSession(Key.Server);
        var firstClient = new SignClientSession(Key.Client, Digest.Parse(digest));
        SignCiphertext old = firstClient.HandleOpening(firstServer.HandleNonce(firstClient.HandleCommitment(firstServer.Commitment)));
        var server = new SignServerSession(Key.Server);
        var client = new SignClientSession(Key.Client, Digest.Parse(digest));
        SignCiphertext ciphertext = client.HandleOpening(server.HandleNonce(client.HandleCommitment(server.Commitment)));
        AssertRefusedBeforeDecryption(server, old, ciphertext);
    }

    [Fact]
    public void Proof_from_another_session_with_its_own_c3_swapped_in_is_refused()
    {
        (_, _, SignCiphertext old) = AtCiphertext();
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        AssertRefusedBeforeDecryption(server, ciphertext with { Proof = old.Proof }, ciphertext);
    }

    [Fact]
    public void Proof_for_another_digest_is_refused()
    {
        // The server is told another digest than the one the client proved for (the nonce message is not signed).
        var server = new SignServerSession(Key.Server);
        var client = new SignClientSession(Key.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignNonce nonce = client.HandleCommitment(server.Commitment);
        SignCiphertext ciphertext = client.HandleOpening(server.HandleNonce(nonce with { Digest = Digest.Parse(RandomNumberGenerator.GetBytes(32)) }));
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleCiphertext(ciphertext)));
    }

    [Fact]
    public void Proof_bound_to_another_device_is_refused()
    {
        // Only the binding differs: same key pair, session and digest, but the server's session is for another device.
        var server = new SignServerSession(Key.Server, "laptop-1");
        var client = new SignClientSession(Key.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignCiphertext ciphertext = client.HandleOpening(server.HandleNonce(client.HandleCommitment(server.Commitment)));
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleCiphertext(ciphertext)));
    }

    [Fact]
    public void Ciphertext_and_proof_for_another_key_are_refused()
    {
        TwoPartyKey second = TwoParty.KeyGen(Curve, engine.Auxiliary, engine.Backend);
        (_, _, SignCiphertext foreign) = AtCiphertext();
        var server = new SignServerSession(second.Server);
        var client = new SignClientSession(second.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignCiphertext ciphertext = client.HandleOpening(server.HandleNonce(client.HandleCommitment(server.Commitment)));
        Assert.NotEqual(Key.Server.ShareId, second.Server.ShareId);
        // c3 of the first key may not even be a unit mod the second N²: either way the proof check refuses it.
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleCiphertext(foreign)));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleCiphertext(ciphertext)));
    }

    [Fact]
    public void Ciphertext_after_the_outcome_is_refused()
    {
        (SignServerSession server, _, SignCiphertext ciphertext) = AtCiphertext();
        Assert.False(server.HandleCiphertext(ciphertext).KeyMustBeFrozen);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleCiphertext(ciphertext)));
    }

    [Fact]
    public void A_c_key_that_does_not_hold_x1_is_caught_by_the_proof_before_decryption()
    {
        // The freeze stays in the code as the second line, but nothing honest reaches it any more: the server checks
        // the proof against its own x1 (Dec(A·D^e) ≡ z1·x1 + z2), so even a record whose c_key = Enc(x1 + 1), which a
        // client would otherwise turn into a failing signature, is refused before decryption.
        TwoPartyKey key = Key;
        BigInteger wrongShare = key.Server.Paillier.PublicKey.Encrypt(key.Server.X1.Add(BigInteger.One));
        var server = new Keys.ServerKeyShare(key.Server.KeyId, Curve, key.Server.X1, key.Server.Paillier, wrongShare, key.Server.PublicKey);
        var client = new Keys.ClientKeyShare(
            key.Client.KeyId, Curve, key.Client.X2, key.Client.Paillier, wrongShare, key.Client.PublicKey, key.Client.ServerRingPedersen, key.Client.DeviceId);
        var serverSession = new SignServerSession(server);
        var clientSession = new SignClientSession(client, Digest.Parse(RandomNumberGenerator.GetBytes(C.ScalarLength)));
        SignCiphertext ciphertext = clientSession.HandleOpening(serverSession.HandleNonce(clientSession.HandleCommitment(serverSession.Commitment)));
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => serverSession.HandleCiphertext(ciphertext)));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => serverSession.HandleCiphertext(ciphertext)));
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
        var client = new SignClientSession(Key.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => client.HandleOpening(opening)));
    }

    /// <summary>
    /// A client that follows the protocol except for the multiplier it applies to c_key: α + q·K instead of α, with a
    /// proof recomputed for that witness (the statement's points are unchanged, since q·R2 = O).
    /// </summary>
    private sealed class AbortAttackClient(TwoPartyKey key)
    {
        private readonly BigInteger _k2 = C.RandomScalar();
        private ProofContext? _context;
        private ECPoint? _r2;

        public SignNonce Nonce(SignCommitment commitment)
        {
            byte[] clientNonce = RandomNumberGenerator.GetBytes(32);
            byte[] sessionId = SessionIds.ForSigning(commitment.ServerSessionId, clientNonce, key.Client.KeyId, Curve);
            _context = new ProofContext(sessionId, PartyRole.Client, key.Client.KeyId, Curve);
            _r2 = C.MultiplyBase(_k2);
            Digest = RandomNumberGenerator.GetBytes(32);
            return new SignNonce(commitment.ServerSessionId, clientNonce, Mpc.Crypto.Curves.Digest.Parse(Digest), false, C.EncodePoint(_r2),
                DlogProof.Prove(C, _k2, _r2, _context, ProofPurposes.SigningNonce));
        }

        public byte[] Digest { get; private set; } = [];

        public SignCiphertext Ciphertext(SignOpening opening, BigInteger k)
        {
            ECPoint r = C.DecodePoint(opening.R1, "R1").Multiply(_k2).Normalize();
            BigInteger q = C.Order;
            BigInteger rx = r.AffineXCoord.ToBigInteger().Mod(q);
            BigInteger k2Inverse = _k2.ModInverse(q);
            BigInteger alpha = k2Inverse.Multiply(rx).Multiply(key.Client.X2).Mod(q).Add(q.Multiply(k));
            BigInteger m = C.DigestToScalar(Mpc.Crypto.Curves.Digest.Parse(Digest));
            BigInteger beta = k2Inverse.Multiply(m).Mod(q);
            ECPoint x1Point = C.MultiplyBase(rx.Multiply(key.Client.X2).Mod(q));
            ECPoint x2Point = C.G.Multiply(m).Normalize();
            RingPedersenParameters verifier = key.Client.ServerRingPedersen!;
            PaillierPublicKey paillier = key.Client.Paillier;
            SignCiphertextRandomness randomness = SignCiphertextRandomness.Create(C, paillier, key.Client.EncryptedServerShare, verifier);
            // The unchecked prover: the SDK's refuses a witness outside the proof's range before proving anything.
            BigInteger c3 = SignCiphertextProof.EncryptAndProveUnchecked(
                C, paillier, verifier, key.Client.EncryptedServerShare, _r2!, x1Point, x2Point, alpha, beta, randomness, _context!,
                SignProofBinding.For(key.Client.DeviceId, Digest, key.Client.ShareId), out SignCiphertextProof proof);
            return new SignCiphertext(c3, proof);
        }
    }
}
