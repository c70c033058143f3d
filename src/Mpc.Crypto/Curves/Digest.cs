namespace Mpc.Crypto.Curves;

/// <summary>
/// The digest an ECDSA signature is made over: 32, 48 or 64 bytes (the SHA-256, SHA-384 and SHA-512 sizes) on
/// every curve; <see cref="EcCurve.DigestToScalar"/> keeps its leftmost bit-length-of-q bits. Parsed once where
/// bytes come in (a decoded message, the SDK's sign call, a stored final-check marker), so everything past that
/// point holds a valid digest by its type and checks nothing again. A digest is not secret.
/// </summary>
public sealed class Digest : IEquatable<Digest>
{
    /// <summary>The longest digest accepted (SHA-512).</summary>
    public const int MaxLength = 64;

    private readonly byte[] _bytes;

    private Digest(byte[] bytes) => _bytes = bytes;

    /// <summary>The one statement of the length rule, as every refusal words it.</summary>
    public static string LengthRule => "Digest must be 32, 48 or 64 bytes";

    public int Length => _bytes.Length;

    public ReadOnlySpan<byte> Span => _bytes;

    public static bool IsValidLength(int length) => length is 32 or 48 or MaxLength;

    /// <summary>A copy of <paramref name="bytes"/> as a digest; any other length is refused with <see cref="MpcErrorCode.InvalidDigest"/>.</summary>
    public static Digest Parse(ReadOnlySpan<byte> bytes) =>
        IsValidLength(bytes.Length)
            ? new Digest(bytes.ToArray())
            : throw new MpcProtocolException(MpcErrorCode.InvalidDigest, $"{LengthRule} (was {bytes.Length}).");

    public static bool TryParse(ReadOnlySpan<byte> bytes, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Digest? digest)
    {
        digest = IsValidLength(bytes.Length) ? new Digest(bytes.ToArray()) : null;
        return digest is not null;
    }

    public byte[] ToArray() => (byte[])_bytes.Clone();

    public bool Equals(Digest? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => Equals(obj as Digest);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    public override string ToString() => Convert.ToHexStringLower(_bytes);
}
