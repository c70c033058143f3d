using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Hashing;

/// <summary>
/// The one Fiat–Shamir transcript. SHAKE256 absorbs every item as a length-prefixed label and a
/// length-prefixed value (<see cref="WireWriter"/> framing), after a domain string and the full
/// <see cref="ProofContext"/>. Every challenge is absorbed back, so later challenges depend on it.
/// </summary>
public sealed class Transcript
{
    private const string Domain = "mpc-signer/lindell17-hardened";

    private readonly ShakeDigest _state;

    private Transcript(ShakeDigest state) => _state = state;

    /// <summary>Starts a transcript for one proof (or commitment) named <paramref name="purpose"/>.</summary>
    public static Transcript Start(string purpose, ProofContext context)
    {
        var transcript = new Transcript(new ShakeDigest(256));
        transcript.Append("domain", Domain)
            .Append("purpose", purpose)
            .Append("protocol-version", context.ProtocolVersion)
            .Append("session-id", context.SessionId.Span)
            .Append("prover", (uint)context.Prover)
            .Append("key-id", context.KeyId)
            .Append("curve", EcCurve.NameOf(context.Curve));
        return transcript;
    }

    public Transcript Append(string label, ReadOnlySpan<byte> value)
    {
        Absorb(System.Text.Encoding.UTF8.GetBytes(label));
        Absorb(value);
        return this;
    }

    public Transcript Append(string label, string value) => Append(label, System.Text.Encoding.UTF8.GetBytes(value));

    public Transcript Append(string label, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return Append(label, bytes);
    }

    /// <summary>Signed integers in the same minimal two's-complement form the wire uses.</summary>
    public Transcript Append(string label, BigInteger value) => Append(label, value.ToByteArray());

    /// <summary>Points in SEC1 compressed form.</summary>
    public Transcript Append(string label, ECPoint point) => Append(label, point.GetEncoded(true));

    /// <summary>Squeezes <paramref name="output"/>.Length challenge bytes and absorbs them back into the transcript.</summary>
    public void ChallengeBytes(string label, Span<byte> output)
    {
        Append("challenge", label);
        var fork = new ShakeDigest(_state);
        fork.OutputFinal(output);
        Append("challenge-value", output);
    }

    /// <summary>A challenge uniform in [0, modulus), with bias below 2^-128 (128 extra bits reduced).</summary>
    public BigInteger ChallengeBelow(string label, BigInteger modulus)
    {
        int bytes = (modulus.BitLength + 128 + 7) / 8;
        byte[] buffer = new byte[bytes];
        ChallengeBytes(label, buffer);
        return new BigInteger(1, buffer).Mod(modulus);
    }

    /// <summary><paramref name="count"/> independent challenge bits, for proofs with binary challenges.</summary>
    public bool[] ChallengeBits(string label, int count)
    {
        byte[] buffer = new byte[(count + 7) / 8];
        ChallengeBytes(label, buffer);
        var bits = new bool[count];
        for (int i = 0; i < count; i++)
        {
            bits[i] = ((buffer[i / 8] >> (i % 8)) & 1) == 1;
        }
        return bits;
    }

    private void Absorb(ReadOnlySpan<byte> value)
    {
        Span<byte> prefix = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(prefix, checked((uint)value.Length));
        _state.BlockUpdate(prefix);
        _state.BlockUpdate(value);
    }
}
