using Mpc.Crypto.Curves;
using Mpc.Crypto.Hashing;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Hashing;

public sealed class TranscriptTests
{
    private static readonly byte[] SessionId = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    private static ProofContext Context(
        byte[]? sessionId = null, PartyRole role = PartyRole.Server, string keyId = "key-1",
        CurveKind curve = CurveKind.Secp256k1, uint version = ProofContext.CurrentProtocolVersion) =>
        new(sessionId ?? SessionId, role, keyId, curve, version);

    private static byte[] Challenge(ProofContext context, string purpose = "proof", string label = "x", byte[]? value = null)
    {
        byte[] output = new byte[32];
        Transcript.Start(purpose, context)
            .Append(label, value ?? [1, 2, 3])
            .ChallengeBytes("e", output);
        return output;
    }

    [Fact]
    public void Same_inputs_give_the_same_challenge()
    {
        Assert.Equal(Challenge(Context()), Challenge(Context()));
        Assert.Equal(Challenge(Context(sessionId: (byte[])SessionId.Clone())), Challenge(Context()));
    }

    public static TheoryData<string> Changes =>
        ["session id", "role", "key id", "curve", "protocol version", "purpose", "label", "value", "value length"];

    [Theory]
    [MemberData(nameof(Changes))]
    public void Any_change_gives_a_different_challenge(string change)
    {
        byte[] otherSession = (byte[])SessionId.Clone();
        otherSession[^1] ^= 0x80;
        byte[] baseline = Challenge(Context());

        byte[] changed = change switch
        {
            "session id" => Challenge(Context(sessionId: otherSession)),
            "role" => Challenge(Context().ForProver(PartyRole.Client)),
            "key id" => Challenge(Context(keyId: "key-2")),
            "curve" => Challenge(Context(curve: CurveKind.P256)),
            "protocol version" => Challenge(Context(version: 2)),
            "purpose" => Challenge(Context(), purpose: "proof2"),
            "label" => Challenge(Context(), label: "y"),
            "value" => Challenge(Context(), value: [1, 2, 4]),
            "value length" => Challenge(Context(), value: [1, 2, 3, 0]),
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };

        Assert.NotEqual(baseline, changed);
    }

    [Fact]
    public void Framing_is_unambiguous()
    {
        Assert.NotEqual(Bytes(t => t.Append("a", "bc")), Bytes(t => t.Append("ab", "c")));
        Assert.NotEqual(Bytes(t => t.Append("a", "b").Append("c", "d")), Bytes(t => t.Append("a", "bcd")));
        Assert.NotEqual(Bytes(t => t.Append("a", ReadOnlySpan<byte>.Empty)), Bytes(t => { }));
        Assert.NotEqual(Bytes(t => t.Append("a", 1u)), Bytes(t => t.Append("a", BigInteger.One)));
        Assert.Equal(Bytes(t => t.Append("a", "bc")), Bytes(t => t.Append("a", "bc"u8)));
    }

    [Fact]
    public void Successive_challenges_differ_and_depend_on_earlier_ones()
    {
        Transcript transcript = Transcript.Start("proof", Context());
        byte[] first = new byte[32];
        byte[] second = new byte[32];
        transcript.ChallengeBytes("e", first);
        transcript.ChallengeBytes("e", second);

        Assert.NotEqual(first, second);
        byte[] withoutFirst = new byte[32];
        Transcript.Start("proof", Context()).ChallengeBytes("e2", withoutFirst);
        Assert.NotEqual(second, withoutFirst);
    }

    [Fact]
    public void Challenge_label_is_bound()
    {
        byte[] a = new byte[32];
        byte[] b = new byte[32];
        Transcript.Start("proof", Context()).ChallengeBytes("a", a);
        Transcript.Start("proof", Context()).ChallengeBytes("b", b);

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void ChallengeBelow_stays_below_the_modulus_and_covers_it()
    {
        var modulus = BigInteger.ValueOf(7);
        var big = BigInteger.One.ShiftLeft(255).Add(BigInteger.ValueOf(19));
        var seen = new HashSet<int>();
        Transcript transcript = Transcript.Start("proof", Context());
        for (int i = 0; i < 200; i++)
        {
            BigInteger small = transcript.ChallengeBelow("c", modulus);
            BigInteger large = transcript.ChallengeBelow("c", big);

            Assert.True(small.SignValue >= 0 && small.CompareTo(modulus) < 0);
            Assert.True(large.SignValue >= 0 && large.CompareTo(big) < 0);
            seen.Add(small.IntValue);
        }

        Assert.Equal(7, seen.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(128)]
    public void ChallengeBits_has_the_requested_length_and_reads_bytes_lsb_first(int count)
    {
        bool[] bits = Transcript.Start("proof", Context()).ChallengeBits("b", count);
        byte[] bytes = new byte[(count + 7) / 8];
        Transcript.Start("proof", Context()).ChallengeBytes("b", bytes);

        Assert.Equal(count, bits.Length);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(((bytes[i / 8] >> (i % 8)) & 1) == 1, bits[i]);
        }
        if (count == 128)
        {
            Assert.Contains(true, bits);
            Assert.Contains(false, bits);
        }
    }

    [Fact]
    public void ProofContext_refuses_bad_session_ids_and_key_ids()
    {
        Assert.Throws<ArgumentException>(() => Context(sessionId: new byte[15]));
        Assert.Throws<ArgumentException>(() => Context(sessionId: new byte[65]));
        Assert.Throws<ArgumentException>(() => Context(keyId: ""));
        Assert.Equal(16, Context(sessionId: new byte[16]).SessionId.Length);
        Assert.Equal(64, Context(sessionId: new byte[64]).SessionId.Length);
    }

    private static byte[] Bytes(Action<Transcript> append)
    {
        Transcript transcript = Transcript.Start("framing", Context());
        append(transcript);
        byte[] output = new byte[32];
        transcript.ChallengeBytes("e", output);
        return output;
    }
}
