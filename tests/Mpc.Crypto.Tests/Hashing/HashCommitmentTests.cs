using Mpc.Crypto.Curves;
using Mpc.Crypto.Hashing;

namespace Mpc.Crypto.Tests.Hashing;

public sealed class HashCommitmentTests
{
    private static readonly byte[] SessionId = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();
    private static readonly ProofContext Context = new(SessionId, PartyRole.Client, "key-1", CurveKind.P256);
    private static readonly byte[] Payload = "the committed share"u8.ToArray();

    [Fact]
    public void Verify_accepts_the_opening()
    {
        byte[] commitment = HashCommitment.Commit(Context, "R2", Payload, out byte[] salt);

        Assert.Equal(HashCommitment.DigestLength, commitment.Length);
        Assert.Equal(HashCommitment.SaltLength, salt.Length);
        Assert.True(HashCommitment.Verify(Context, "R2", commitment, Payload, salt));
    }

    [Fact]
    public void Commitments_to_the_same_payload_are_salted_apart()
    {
        byte[] first = HashCommitment.Commit(Context, "R2", Payload, out byte[] salt1);
        byte[] second = HashCommitment.Commit(Context, "R2", Payload, out byte[] salt2);

        Assert.NotEqual(salt1, salt2);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Verify_refuses_a_wrong_payload_salt_context_or_label()
    {
        byte[] commitment = HashCommitment.Commit(Context, "R2", Payload, out byte[] salt);
        byte[] otherPayload = (byte[])Payload.Clone();
        otherPayload[0] ^= 1;
        byte[] otherSalt = (byte[])salt.Clone();
        otherSalt[^1] ^= 1;
        byte[] otherSession = (byte[])SessionId.Clone();
        otherSession[0] ^= 1;

        Assert.False(HashCommitment.Verify(Context, "R2", commitment, otherPayload, salt));
        Assert.False(HashCommitment.Verify(Context, "R2", commitment, Payload.AsSpan(1), salt));
        Assert.False(HashCommitment.Verify(Context, "R2", commitment, Payload, otherSalt));
        Assert.False(HashCommitment.Verify(Context, "R1", commitment, Payload, salt));
        Assert.False(HashCommitment.Verify(Context.ForProver(PartyRole.Server), "R2", commitment, Payload, salt));
        Assert.False(HashCommitment.Verify(new ProofContext(otherSession, PartyRole.Client, "key-1", CurveKind.P256), "R2", commitment, Payload, salt));
        Assert.False(HashCommitment.Verify(new ProofContext(SessionId, PartyRole.Client, "key-2", CurveKind.P256), "R2", commitment, Payload, salt));
        Assert.False(HashCommitment.Verify(new ProofContext(SessionId, PartyRole.Client, "key-1", CurveKind.P384), "R2", commitment, Payload, salt));
    }

    [Fact]
    public void Verify_refuses_wrong_lengths_and_altered_commitments()
    {
        byte[] commitment = HashCommitment.Commit(Context, "R2", Payload, out byte[] salt);
        byte[] altered = (byte[])commitment.Clone();
        altered[5] ^= 0x10;

        Assert.False(HashCommitment.Verify(Context, "R2", altered, Payload, salt));
        Assert.False(HashCommitment.Verify(Context, "R2", commitment.AsSpan(0, 31), Payload, salt));
        Assert.False(HashCommitment.Verify(Context, "R2", [.. commitment, 0], Payload, salt));
        Assert.False(HashCommitment.Verify(Context, "R2", [], Payload, salt));
        Assert.False(HashCommitment.Verify(Context, "R2", commitment, Payload, salt.AsSpan(0, 31)));
        Assert.False(HashCommitment.Verify(Context, "R2", commitment, Payload, [.. salt, 0]));
    }
}
