using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;
using Org.BouncyCastle.Utilities;
using RandomNumberGenerator = System.Security.Cryptography.RandomNumberGenerator;
using CryptographicOperations = System.Security.Cryptography.CryptographicOperations;

namespace Mpc.Crypto.Curves;

/// <summary>The curves this service signs on.</summary>
public enum CurveKind
{
    Secp256k1 = 1,
    P256 = 2,
    P384 = 3,
}

/// <summary>
/// One elliptic curve: validated point decoding, range-checked scalars and the digest-to-scalar rule.
/// All three supported curves have cofactor 1, so every valid non-identity point has order q.
/// </summary>
public sealed class EcCurve
{
    private static readonly EcCurve Secp256k1Curve = new(CurveKind.Secp256k1, "secp256k1", "secp256k1");
    private static readonly EcCurve P256Curve = new(CurveKind.P256, "P-256", "secp256r1");
    private static readonly EcCurve P384Curve = new(CurveKind.P384, "P-384", "secp384r1");

    private readonly X9ECParameters _parameters;

    private EcCurve(CurveKind kind, string name, string bouncyCastleName)
    {
        Kind = kind;
        Name = name;
        _parameters = CustomNamedCurves.GetByName(bouncyCastleName);
        Order = _parameters.N;
        G = _parameters.G;
        ScalarLength = (Order.BitLength + 7) / 8;
        FieldLength = (_parameters.Curve.FieldSize + 7) / 8;
        HalfOrder = Order.ShiftRight(1);
        if (!_parameters.H.Equals(BigInteger.One))
        {
            throw new InvalidOperationException("Only prime-order curves are supported.");
        }
    }

    public CurveKind Kind { get; }

    /// <summary>"secp256k1", "P-256" or "P-384".</summary>
    public string Name { get; }

    /// <summary>The group order q.</summary>
    public BigInteger Order { get; }

    public BigInteger HalfOrder { get; }

    public ECPoint G { get; }

    public ECDomainParameters DomainParameters => new(_parameters);

    public int ScalarLength { get; }

    public int FieldLength { get; }

    /// <summary>Length of a SEC1 compressed point.</summary>
    public int PointLength => FieldLength + 1;

    public static EcCurve Get(CurveKind kind) => kind switch
    {
        CurveKind.Secp256k1 => Secp256k1Curve,
        CurveKind.P256 => P256Curve,
        CurveKind.P384 => P384Curve,
        _ => throw new MpcProtocolException(MpcErrorCode.UnsupportedCurve, $"Curve {(int)kind} is not supported."),
    };

    public static string NameOf(CurveKind kind) => Get(kind).Name;

    /// <summary>
    /// Reads a curve written as its <see cref="CurveKind"/> number (<c>WriteUInt32((uint)kind)</c>): the one place a wire
    /// or file value becomes a curve, so any number outside the enum, 2³¹ and above included, is
    /// <see cref="MpcErrorCode.UnsupportedCurve"/> and never an overflow.
    /// </summary>
    public static EcCurve ReadFrom(ref Encoding.WireReader reader, string field = "curve")
    {
        uint value = reader.ReadUInt32(field);
        // Get refuses every other number below 2³¹; the ones above are refused here rather than cast to a negative kind.
        return value <= int.MaxValue
            ? Get((CurveKind)(int)value)
            : throw new MpcProtocolException(MpcErrorCode.UnsupportedCurve, $"Curve {value} is not supported.");
    }

    /// <summary>Parses "secp256k1", "p256"/"P-256"/"prime256v1", "p384"/"P-384"/"secp384r1".</summary>
    public static CurveKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "secp256k1" => CurveKind.Secp256k1,
        "p256" or "p-256" or "secp256r1" or "prime256v1" => CurveKind.P256,
        "p384" or "p-384" or "secp384r1" => CurveKind.P384,
        _ => throw new MpcProtocolException(MpcErrorCode.UnsupportedCurve,
            $"Unsupported curve '{name}'; use secp256k1, p256 or p384."),
    };

    /// <summary>
    /// Decodes a SEC1 compressed point and refuses anything else: wrong length, not on the curve,
    /// the identity, or a non-canonical x coordinate.
    /// </summary>
    public ECPoint DecodePoint(ReadOnlySpan<byte> encoded, string field)
    {
        if (encoded.Length != PointLength || (encoded[0] != 0x02 && encoded[0] != 0x03))
        {
            throw new MpcProtocolException(MpcErrorCode.InvalidPoint, $"{field} is not a compressed {Name} point.");
        }
        ECPoint point;
        try
        {
            // BouncyCastle rejects x ≥ p and x with no square root (not on the curve).
            point = _parameters.Curve.DecodePoint(encoded.ToArray()).Normalize();
        }
        catch (ArgumentException)
        {
            throw new MpcProtocolException(MpcErrorCode.InvalidPoint, $"{field} is not on {Name}.");
        }
        ValidatePoint(point, field);
        return point;
    }

    /// <summary>Checks a point computed or received in another form: on this curve, valid, not the identity.</summary>
    public void ValidatePoint(ECPoint point, string field)
    {
        if (point.IsInfinity)
        {
            throw new MpcProtocolException(MpcErrorCode.InvalidPoint, $"{field} is the identity point.");
        }
        if (!point.Curve.Equals(_parameters.Curve) || !point.IsValid())
        {
            throw new MpcProtocolException(MpcErrorCode.InvalidPoint, $"{field} is not a valid {Name} point.");
        }
    }

    public byte[] EncodePoint(ECPoint point) => point.GetEncoded(true);

    /// <summary>k·G for a secret k: constant-time through OpenSSL when available (see <see cref="ScalarMultipliers"/>).</summary>
    public ECPoint MultiplyBase(BigInteger k) => MultiplySecret(null, k);

    /// <summary>
    /// k·P for a secret scalar k and a validated point P (null: the generator), constant-time through OpenSSL when
    /// available; otherwise by a sequence of point operations that does not depend on k (<see cref="ManagedScalarMultiplier"/>).
    /// For public scalars (verification) plain BouncyCastle arithmetic is fine.
    /// </summary>
    public ECPoint MultiplySecret(ECPoint? point, BigInteger k)
    {
        BigInteger reduced = k.Mod(Order);
        if (reduced.SignValue == 0)
        {
            throw new ArgumentException("Scalar is zero modulo the group order.", nameof(k));
        }
        return ScalarMultipliers.Default.Multiply(this, point, reduced);
    }

    /// <summary>
    /// a·G + b·P for PUBLIC scalars (verification equations) and a validated point P: the identity when the terms
    /// cancel. By whichever library is faster on this curve (<see cref="OpenSslEcMultiplier.SumOfTwoMultiplies"/>);
    /// not for secrets (no promise of constant time here).
    /// </summary>
    public ECPoint SumOfTwoMultiplies(BigInteger a, ECPoint point, BigInteger b)
    {
        ArgumentNullException.ThrowIfNull(point);
        return point.IsInfinity
            ? G.Multiply(a.Mod(Order)).Normalize()
            : ScalarMultipliers.Default.SumOfTwoMultiplies(this, a.Mod(Order), point, b.Mod(Order));
    }

    /// <summary>The identity point of this curve.</summary>
    internal ECPoint Infinity => _parameters.Curve.Infinity;

    /// <summary>An uncompressed point computed by OpenSSL from valid inputs (BouncyCastle still checks the curve equation).</summary>
    internal ECPoint DecodeTrusted(byte[] uncompressed) => _parameters.Curve.DecodePoint(uncompressed);

    /// <summary>
    /// k⁻¹ mod q for a secret scalar k in [1, q-1], as k^(q-2) mod q (Fermat; q is a public prime) through the
    /// backend's exponentiation: constant-time on OpenSSL, unlike BouncyCastle's extended-Euclid ModInverse,
    /// whose running time leaks bits of a signing nonce (a hidden-number problem on the key share).
    /// </summary>
    public BigInteger InvertSecret(BigInteger k, IBigNumBackend backend)
    {
        if (k.SignValue <= 0 || k.CompareTo(Order) >= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(k), "A secret scalar to invert must lie in [1, q-1].");
        }
        return backend.ModPow(k, Order.Subtract(BigInteger.Two), Order);
    }

    /// <summary>A uniformly random scalar in [1, q-1] from the platform CSPRNG.</summary>
    public BigInteger RandomScalar()
    {
        Span<byte> buffer = stackalloc byte[ScalarLength + 16];
        try
        {
            while (true)
            {
                RandomNumberGenerator.Fill(buffer);
                // 128 extra bits make the reduction bias negligible; zero is rejected. Read straight from the
                // stack buffer: no heap copy of the random bytes is made (k1, k2 and proof nonces come from here).
                BigInteger k = new BigInteger(1, buffer).Mod(Order);
                if (k.SignValue != 0)
                {
                    return k;
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>
    /// Decodes a fixed-length big-endian scalar and requires it in [1, q-1]. Secrets (x1, x2, an imported key) are
    /// decoded here: straight from <paramref name="encoded"/>, with no copy of the bytes left to zero.
    /// </summary>
    public BigInteger DecodeScalar(ReadOnlySpan<byte> encoded, string field)
    {
        if (encoded.Length != ScalarLength)
        {
            throw new MpcProtocolException(MpcErrorCode.ScalarOutOfRange, $"{field} must be {ScalarLength} bytes.");
        }
        var value = new BigInteger(1, encoded);
        RequireScalar(value, field);
        return value;
    }

    /// <summary>Requires 1 ≤ value ≤ q-1.</summary>
    public void RequireScalar(BigInteger value, string field)
    {
        if (value.SignValue <= 0 || value.CompareTo(Order) >= 0)
        {
            throw new MpcProtocolException(MpcErrorCode.ScalarOutOfRange, $"{field} is outside [1, q-1].");
        }
    }

    public byte[] EncodeScalar(BigInteger value) => BigIntegers.AsUnsignedByteArray(ScalarLength, value);

    /// <summary>
    /// The ECDSA message representative: the leftmost bit-length-of-q bits of the digest, reduced mod q
    /// (SEC1 4.1.3 step 5). The digest's length was checked when it was parsed (<see cref="Digest.Parse"/>).
    /// </summary>
    public BigInteger DigestToScalar(Digest digest)
    {
        var e = new BigInteger(1, digest.Span);
        int excess = digest.Length * 8 - Order.BitLength;
        if (excess > 0)
        {
            e = e.ShiftRight(excess);
        }
        return e.Mod(Order);
    }

    /// <summary>Standard ECDSA verification against public key <paramref name="publicKey"/>.</summary>
    public bool Verify(ECPoint publicKey, Digest digest, BigInteger r, BigInteger s) =>
        VerificationPoint(publicKey, digest, r, s) is not null;

    /// <summary>
    /// The point s⁻¹·(e·G + r·Q) when (r, s) verifies, else null. It is the signature's R for this s,
    /// so its y parity and x overflow give the recovery id whether or not s was normalised.
    /// </summary>
    public ECPoint? VerificationPoint(ECPoint publicKey, Digest digest, BigInteger r, BigInteger s)
    {
        if (r.SignValue <= 0 || r.CompareTo(Order) >= 0 || s.SignValue <= 0 || s.CompareTo(Order) >= 0)
        {
            return null;
        }
        BigInteger e = DigestToScalar(digest);
        BigInteger w = s.ModInverse(Order);
        ECPoint point = SumOfTwoMultiplies(e.Multiply(w), publicKey, r.Multiply(w));
        return !point.IsInfinity && point.AffineXCoord.ToBigInteger().Mod(Order).Equals(r) ? point : null;
    }

    /// <summary>Recovery id of a signature whose nonce point (for this s) is <paramref name="r"/>: bit 0 the parity of y, bit 1 set when x ≥ q.</summary>
    public int RecoveryId(ECPoint r)
    {
        ECPoint normalized = r.Normalize();
        int parity = normalized.AffineYCoord.ToBigInteger().TestBit(0) ? 1 : 0;
        int overflow = normalized.AffineXCoord.ToBigInteger().CompareTo(Order) >= 0 ? 2 : 0;
        return parity | overflow;
    }
}
