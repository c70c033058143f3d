using System.Security.Cryptography;

namespace Mpc.Crypto.Hashing;

/// <summary>
/// Commit-then-open: a 32-byte transcript digest over a fresh 32-byte salt and the payload, bound to
/// the committer's <see cref="ProofContext"/>. Hiding through the salt, binding through SHAKE256.
/// </summary>
public static class HashCommitment
{
    public const int SaltLength = 32;
    public const int DigestLength = 32;

    /// <summary>Commits to <paramref name="payload"/>; keep <paramref name="salt"/> secret until the opening.</summary>
    public static byte[] Commit(ProofContext context, string label, ReadOnlySpan<byte> payload, out byte[] salt)
    {
        salt = RandomNumberGenerator.GetBytes(SaltLength);
        return Digest(context, label, payload, salt);
    }

    /// <summary>True when (payload, salt) opens <paramref name="commitment"/>; compares in constant time.</summary>
    public static bool Verify(ProofContext context, string label, ReadOnlySpan<byte> commitment, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> salt)
    {
        if (commitment.Length != DigestLength || salt.Length != SaltLength)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(commitment, Digest(context, label, payload, salt));
    }

    private static byte[] Digest(ProofContext context, string label, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> salt)
    {
        byte[] digest = new byte[DigestLength];
        Transcript.Start("commitment/" + label, context)
            .Append("salt", salt)
            .Append("payload", payload)
            .ChallengeBytes("digest", digest);
        return digest;
    }
}
