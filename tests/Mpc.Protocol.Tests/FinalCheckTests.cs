using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Org.BouncyCastle.Math;

namespace Mpc.Protocol.Tests;

/// <summary>
/// Re-running a final check from its stored record (the crash-recovery path): the outcome must be the one the
/// session's own check had, for honest and altered c3 alike, and a malformed record must be refused.
/// </summary>
[Collection("engine")]
public sealed class FinalCheckTests(EngineFixture engine)
{
    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P384)]
    public void An_honest_c3_rechecks_true_and_the_session_signs(CurveKind curve)
    {
        TwoPartyKey key = engine.Key(curve);
        (SignServerSession server, FinalCheckRecord record) = Verified(key);
        Assert.True(FinalCheck.Recheck(key.Server, record));
        Assert.False(server.DecryptAndVerify().KeyMustBeFrozen);
        // Twice: the re-run decrypts the same c3 and answers the same.
        Assert.True(FinalCheck.Recheck(key.Server, record));
    }

    [Fact]
    public void A_c3_with_beta_altered_rechecks_false()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (_, FinalCheckRecord record) = Verified(key);
        PaillierPublicKey paillier = key.Server.Paillier.PublicKey;
        // c3·(1+N) = Enc(α·x1 + β + 1): β off by one.
        BigInteger altered = paillier.Add(new BigInteger(1, record.C3), paillier.GPow(BigInteger.One));
        Assert.False(FinalCheck.Recheck(key.Server, record with { C3 = altered.ToByteArrayUnsigned() }));
    }

    [Fact]
    public void A_c3_with_alpha_altered_rechecks_false()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (_, FinalCheckRecord record) = Verified(key);
        PaillierPublicKey paillier = key.Server.Paillier.PublicKey;
        // c3·c_key = Enc((α + 1)·x1 + β): α off by one.
        BigInteger altered = paillier.Add(new BigInteger(1, record.C3), key.Server.EncryptedShare);
        Assert.False(FinalCheck.Recheck(key.Server, record with { C3 = altered.ToByteArrayUnsigned() }));
    }

    [Fact]
    public void An_abort_attack_c3_agrees_with_the_sessions_own_outcome()
    {
        // The threshold probe: c3·c_key^(q·K) changes α by a multiple of q, so the signature verifies exactly when
        // α·x1 + β stays below N/2 (centred). The re-run must answer what the session's decryption answers.
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (_, FinalCheckRecord record) = Verified(key);
        PaillierPublicKey paillier = key.Server.Paillier.PublicKey;
        BigInteger q = EcCurve.Get(CurveKind.P256).Order;
        BigInteger c3 = new(1, record.C3);
        BigInteger small = paillier.Add(c3, paillier.Backend.ModPow(key.Server.EncryptedShare, q, paillier.NSquared));
        BigInteger huge = paillier.Add(c3, paillier.Backend.ModPow(key.Server.EncryptedShare, q.Multiply(paillier.N.ShiftRight(q.BitLength + 2)), paillier.NSquared));
        Assert.True(FinalCheck.Recheck(key.Server, record with { C3 = small.ToByteArrayUnsigned() }));
        Assert.False(FinalCheck.Recheck(key.Server, record with { C3 = huge.ToByteArrayUnsigned() }));
    }

    [Fact]
    public void A_record_from_another_signature_rechecks_false()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (_, FinalCheckRecord first) = Verified(key);
        (_, FinalCheckRecord second) = Verified(key);
        Assert.False(FinalCheck.Recheck(key.Server, first with { C3 = second.C3 }));
        Assert.False(FinalCheck.Recheck(key.Server, first with { Digest = second.Digest }));
    }

    [Fact]
    public void A_malformed_record_is_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (_, FinalCheckRecord record) = Verified(key);
        BigInteger nSquared = key.Server.Paillier.PublicKey.NSquared;
        byte[] offCurve = (byte[])record.R2.Clone();
        offCurve[0] = 0x05; // no SEC1 point starts so
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => FinalCheck.Recheck(key.Server, record with { C3 = [] })));
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => FinalCheck.Recheck(key.Server, record with { R2 = [] })));
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => FinalCheck.Recheck(key.Server, record with { R = [] })));
        Assert.Equal(MpcErrorCode.InvalidCiphertext, Refusal(() => FinalCheck.Recheck(key.Server, record with { C3 = nSquared.ToByteArrayUnsigned() })));
        Assert.Equal(MpcErrorCode.InvalidCiphertext, Refusal(() => FinalCheck.Recheck(key.Server, record with { C3 = key.Server.Paillier.PublicKey.N.ToByteArrayUnsigned() })));
        Assert.Equal(MpcErrorCode.ScalarOutOfRange, Refusal(() => FinalCheck.Recheck(key.Server, record with { R = new byte[32] })));
        Assert.Equal(MpcErrorCode.ScalarOutOfRange, Refusal(() => FinalCheck.Recheck(key.Server, record with { R = new byte[31] })));
        Assert.Equal(MpcErrorCode.InvalidDigest, Refusal(() => FinalCheck.Recheck(key.Server, record with { Digest = new byte[20] })));
        MpcErrorCode point = Refusal(() => FinalCheck.Recheck(key.Server, record with { R2 = offCurve }));
        Assert.True(point is MpcErrorCode.InvalidPoint or MpcErrorCode.MalformedMessage, point.ToString());
    }

    [Fact]
    public void A_tagged_honest_record_passes_the_authenticated_recheck()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (SignServerSession server, FinalCheckRecord record) = Verified(key);
        byte[] tag = server.FinalCheckTag(record);
        Assert.Equal(FinalCheck.Tag(key.Server, key.Client.DeviceId, record), tag);
        Assert.True(FinalCheck.IsAuthentic(key.Server, key.Client.DeviceId, record, tag));
        Assert.True(FinalCheck.Recheck(key.Server, key.Client.DeviceId, record, tag));
    }

    [Fact]
    public void A_changed_record_or_device_with_the_old_tag_is_refused_before_decryption()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (SignServerSession server, FinalCheckRecord record) = Verified(key);
        byte[] tag = server.FinalCheckTag(record);
        string device = key.Client.DeviceId;
        PaillierPublicKey paillier = key.Server.Paillier.PublicKey;
        BigInteger failing = paillier.Add(new BigInteger(1, record.C3), paillier.GPow(BigInteger.One));
        // Values the re-run would refuse with another code (or answer false) once it decoded or decrypted them: the
        // authenticity refusal shows nothing got that far.
        NotAuthentic(() => FinalCheck.Recheck(key.Server, device, record with { C3 = failing.ToByteArrayUnsigned() }, tag));
        NotAuthentic(() => FinalCheck.Recheck(key.Server, device, record with { C3 = paillier.NSquared.ToByteArrayUnsigned() }, tag));
        NotAuthentic(() => FinalCheck.Recheck(key.Server, device, record with { Digest = new byte[20] }, tag));
        NotAuthentic(() => FinalCheck.Recheck(key.Server, device, record with { R2 = [0x05, .. record.R2[1..]] }, tag));
        NotAuthentic(() => FinalCheck.Recheck(key.Server, device, record with { R = new byte[32] }, tag));
        NotAuthentic(() => FinalCheck.Recheck(key.Server, device + "-other", record, tag));
        NotAuthentic(() => FinalCheck.Recheck(key.Server, device, record, []));
        NotAuthentic(() => FinalCheck.Recheck(key.Server, device, record, tag.AsSpan(0, tag.Length - 1)));
        byte[] flipped = (byte[])tag.Clone();
        flipped[0] ^= 1;
        NotAuthentic(() => FinalCheck.Recheck(key.Server, device, record, flipped));
    }

    [Fact]
    public void A_tag_made_with_another_keys_share_is_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        TwoPartyKey other = engine.Key(CurveKind.Secp256k1);
        (_, FinalCheckRecord record) = Verified(key);
        byte[] foreign = FinalCheck.Tag(other.Server, key.Client.DeviceId, record);
        Assert.NotEqual(FinalCheck.Tag(key.Server, key.Client.DeviceId, record), foreign);
        NotAuthentic(() => FinalCheck.Recheck(key.Server, key.Client.DeviceId, record, foreign));
    }

    [Fact]
    public void A_refused_proof_spends_the_session_and_yields_no_record()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        var server = new SignServerSession(key.Server, key.Client.DeviceId);
        var client = new SignClientSession(key.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32)), false);
        SignOpening opening = server.HandleNonce(client.HandleCommitment(server.Commitment));
        SignCiphertext honest = client.HandleOpening(opening);
        PaillierPublicKey paillier = key.Server.Paillier.PublicKey;
        var tampered = honest with { C3 = paillier.Add(honest.C3, paillier.GPow(BigInteger.One)) };
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.VerifyCiphertext(tampered)));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.DecryptAndVerify()));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.VerifyCiphertext(honest)));
    }

    [Fact]
    public void Decryption_needs_a_verified_ciphertext_first()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        var server = new SignServerSession(key.Server, key.Client.DeviceId);
        var client = new SignClientSession(key.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32)), false);
        server.HandleNonce(client.HandleCommitment(server.Commitment));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.DecryptAndVerify()));
    }

    private static (SignServerSession Server, FinalCheckRecord Record) Verified(TwoPartyKey key)
    {
        var server = new SignServerSession(key.Server, key.Client.DeviceId);
        byte[] digest = TwoParty.DigestFor(key.Server.Curve, RandomNumberGenerator.GetBytes(40));
        var client = new SignClientSession(key.Client, Digest.Parse(digest), false);
        SignOpening opening = server.HandleNonce(client.HandleCommitment(server.Commitment));
        return (server, server.VerifyCiphertext(client.HandleOpening(opening)));
    }

    private static void NotAuthentic(Func<bool> recheck)
    {
        MpcProtocolException refused = Assert.Throws<MpcProtocolException>(() => recheck());
        Assert.Equal(MpcErrorCode.MalformedMessage, refused.Code);
        Assert.Contains("not authentic", refused.Message, StringComparison.Ordinal);
    }

    private static MpcErrorCode Refusal(Action action) => Assert.Throws<MpcProtocolException>(action).Code;
}
