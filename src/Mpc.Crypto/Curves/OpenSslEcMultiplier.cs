using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using CryptographicException = System.Security.Cryptography.CryptographicException;
using CryptographicOperations = System.Security.Cryptography.CryptographicOperations;
using RandomNumberGenerator = System.Security.Cryptography.RandomNumberGenerator;
using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Curves;

/// <summary>
/// Scalar multiplication. OpenSSL's <c>EC_POINT_mul</c> is constant-time in a secret scalar (a Montgomery ladder,
/// or nistz256 on P-256) and several times faster than BouncyCastle. The fallback, <see cref="ManagedScalarMultiplier"/>,
/// runs an operation sequence independent of the secret scalar (fixed-point comb; blinded Montgomery ladder) on top of
/// field arithmetic that promises nothing. Verification sums (public scalars) use whichever is faster on the curve.
/// </summary>
internal interface IScalarMultiplier
{
    string Name { get; }

    /// <summary>k·P for a valid point P of <paramref name="curve"/> and 0 &lt; k &lt; q; null P means the generator.</summary>
    ECPoint Multiply(EcCurve curve, ECPoint? point, BigInteger k);

    /// <summary>a·G + b·P for a valid point P and PUBLIC scalars a, b in [0, q); the identity when they cancel.</summary>
    ECPoint SumOfTwoMultiplies(EcCurve curve, BigInteger a, ECPoint point, BigInteger b);
}

/// <summary>
/// BouncyCastle, for when libcrypto is missing or MPC_BIGNUM_BACKEND=managed, and always in the browser. A secret
/// scalar times a variable point (k2·R1, x2·Q1, the c3 prover's a·R2, b·R2, the device ECDH) is blinded and run
/// through a Montgomery ladder (<see cref="Blind"/>, <see cref="MontgomeryLadder"/>); BouncyCastle's own
/// <c>point.Multiply</c> (wNAF, GLV on secp256k1) does as many doublings as k has bits and an addition per non-zero
/// digit, so its running time told a server that knows R1 the length of k2 (a Minerva-style lattice attack on the key).
/// </summary>
internal sealed class ManagedScalarMultiplier : IScalarMultiplier
{
    /// <summary>
    /// Bits of randomness in the multiple of q added to k (at least this many: the draw is uniform over more than
    /// 2^64 multiples). Coron's countermeasure; 64 is the size usually recommended against partial-nonce lattices.
    /// </summary>
    internal const int BlindingBits = 64;

    // The generator path keeps BouncyCastle's fixed-point comb: its loop runs a number of times fixed by q's length
    // (not k's), each a lookup that reads every table entry and selects by mask, then one TwicePlus with an entry
    // that is never the identity (the table is offset). It refuses scalars longer than q, so it is not blinded.
    private readonly Org.BouncyCastle.Math.EC.Multiplier.FixedPointCombMultiplier _comb = new();
    private readonly Func<ECPoint, BigInteger, ECPoint> _variableBase;

    public ManagedScalarMultiplier()
        : this(MontgomeryLadder.Multiply)
    {
    }

    /// <summary>With the variable-base multiplication replaced, so a test can see the scalar BouncyCastle is handed.</summary>
    internal ManagedScalarMultiplier(Func<ECPoint, BigInteger, ECPoint> variableBase) => _variableBase = variableBase;

    public string Name => "managed";

    public ECPoint Multiply(EcCurve curve, ECPoint? point, BigInteger k) =>
        (point is null ? _comb.Multiply(curve.G, k) : _variableBase(point, Blind(curve, k))).Normalize();

    /// <summary>
    /// k' = k + c·q for k in [1, q-1], with c fresh from the CSPRNG and uniform in [⌈2^(L-1)/q⌉, ⌊2^L/q⌋ - 1],
    /// L = bits(q) + <see cref="BlindingBits"/> + 1: then 2^(L-1) &lt; k' &lt; 2^L, so every k' has exactly L bits
    /// whatever k is (a c drawn from a power-of-two range with its top bit forced would not do: q is just below a power
    /// of two on all three curves, and c·q's length would then depend on c and, at the border, on k). k'·P = k·P
    /// because q·P is the identity (cofactor 1: every valid point has order q). Only k's last addition touches k; the
    /// bounds and c are public or random. The upper bits of k' are not all random: on orders close to 2^bits(q)
    /// (secp256k1, P-384) a 64-bit c leaves k's top bits visible in k' = c·2^bits(q) + (k - c·(2^bits(q) - q)), so the
    /// ladder's regularity, not the blinding, is what keeps the digits out of the operation sequence; the blinding
    /// fixes the length and makes every intermediate point differ from call to call.
    /// </summary>
    internal static BigInteger Blind(EcCurve curve, BigInteger k)
    {
        BigInteger q = curve.Order;
        int length = q.BitLength + BlindingBits + 1;
        BigInteger low = BigInteger.One.ShiftLeft(length - 1).Add(q).Subtract(BigInteger.One).Divide(q);
        BigInteger high = BigInteger.One.ShiftLeft(length).Divide(q).Subtract(BigInteger.One);
        BigInteger span = high.Subtract(low).Add(BigInteger.One);
        Span<byte> buffer = stackalloc byte[(span.BitLength + 128 + 7) / 8];
        try
        {
            // 128 extra bits make the reduction's bias negligible, as for every other bounded draw.
            RandomNumberGenerator.Fill(buffer);
            BigInteger c = low.Add(new BigInteger(1, buffer).Mod(span));
            BigInteger blinded = k.Add(c.Multiply(q));
            if (blinded.BitLength != length)
            {
                throw new InvalidOperationException("A blinded scalar fell outside its fixed length; k was not in [1, q-1].");
            }
            return blinded;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    public ECPoint SumOfTwoMultiplies(EcCurve curve, BigInteger a, ECPoint point, BigInteger b) =>
        ECAlgorithms.SumOfTwoMultiplies(curve.G, a, point, b).Normalize();
}

/// <summary>
/// The Montgomery ladder, written here because BouncyCastle 2.x dropped its MontgomeryLadderMultiplier. Every bit of k,
/// whatever its value, costs one point addition and one doubling; the bit only picks which of the two running points
/// (whose difference is always P) is added to and which is doubled, by array index rather than by branch. So the
/// sequence of field operations depends on k.BitLength alone, which <see cref="ManagedScalarMultiplier.Blind"/> fixes.
/// Not promised: BouncyCastle's field arithmetic (its reductions branch on intermediate values), the cache line of the
/// two-entry array, and the second-highest bit, at which one of the points is still affine (a cheaper addition).
/// </summary>
internal static class MontgomeryLadder
{
    /// <summary>k·P for k &gt; 0 and a valid point P.</summary>
    public static ECPoint Multiply(ECPoint point, BigInteger k)
    {
        int bits = k.BitLength;
        byte[] scalar = Org.BouncyCastle.Utilities.BigIntegers.AsUnsignedByteArray((bits + 7) / 8, k);
        try
        {
            ECPoint[] r = [point.Curve.Infinity, point];
            for (int i = bits - 1; i >= 0; i--)
            {
                int bit = (scalar[scalar.Length - 1 - (i >> 3)] >> (i & 7)) & 1;
                r[1 - bit] = r[1 - bit].Add(r[bit]);
                r[bit] = r[bit].Twice();
            }
            // As BouncyCastle's own multipliers do: a result off the curve (a fault) is never returned.
            return ECAlgorithms.ValidatePoint(r[0]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }
    }
}

internal static class ScalarMultipliers
{
    private static readonly Lazy<IScalarMultiplier> DefaultMultiplier = new(() =>
        BigNumBackends.FromEnvironment() != BigNumBackendKind.Managed && OpenSslEcMultiplier.TryCreate(out IScalarMultiplier? openssl)
            ? openssl
            : new ManagedScalarMultiplier());

    /// <summary>Chosen once, like the big-number backend: OpenSSL unless it is missing or MPC_BIGNUM_BACKEND=managed.</summary>
    public static IScalarMultiplier Default => DefaultMultiplier.Value;
}

internal sealed unsafe class OpenSslEcMultiplier : IScalarMultiplier
{
    // OpenSSL NIDs: secp256k1, prime256v1 (P-256), secp384r1 (P-384).
    private static readonly (CurveKind Kind, int Nid)[] Curves = [(CurveKind.Secp256k1, 714), (CurveKind.P256, 415), (CurveKind.P384, 715)];
    private const int Uncompressed = 4;

    private readonly Dictionary<CurveKind, IntPtr> _groups = [];
    private readonly ManagedScalarMultiplier _managed = new();
    private readonly delegate* unmanaged<IntPtr, IntPtr> _pointNew;
    private readonly delegate* unmanaged<IntPtr, void> _pointClearFree;
    private readonly delegate* unmanaged<IntPtr, IntPtr, byte*, nuint, IntPtr, int> _oct2Point;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int, byte*, nuint, IntPtr, nuint> _point2Oct;
    private readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> _mul;
    private readonly delegate* unmanaged<byte*, int, IntPtr, IntPtr> _bin2Bn;
    private readonly delegate* unmanaged<IntPtr, void> _bnClearFree;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int> _isAtInfinity;

    private OpenSslEcMultiplier(IntPtr library)
    {
        var groupNew = (delegate* unmanaged<int, IntPtr>)NativeLibrary.GetExport(library, "EC_GROUP_new_by_curve_name");
        _pointNew = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(library, "EC_POINT_new");
        _pointClearFree = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "EC_POINT_clear_free");
        _oct2Point = (delegate* unmanaged<IntPtr, IntPtr, byte*, nuint, IntPtr, int>)NativeLibrary.GetExport(library, "EC_POINT_oct2point");
        _point2Oct = (delegate* unmanaged<IntPtr, IntPtr, int, byte*, nuint, IntPtr, nuint>)NativeLibrary.GetExport(library, "EC_POINT_point2oct");
        _mul = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "EC_POINT_mul");
        _bin2Bn = (delegate* unmanaged<byte*, int, IntPtr, IntPtr>)NativeLibrary.GetExport(library, "BN_bin2bn");
        _bnClearFree = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "BN_clear_free");
        _isAtInfinity = (delegate* unmanaged<IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "EC_POINT_is_at_infinity");
        foreach ((CurveKind kind, int nid) in Curves)
        {
            // Groups are immutable once made and live for the process, like the curves themselves.
            IntPtr group = groupNew(nid);
            if (group == IntPtr.Zero)
            {
                throw new EntryPointNotFoundException($"libcrypto has no curve with NID {nid}");
            }
            _groups[kind] = group;
        }
    }

    public string Name => "openssl";

    public static bool TryCreate([NotNullWhen(true)] out IScalarMultiplier? multiplier)
    {
        multiplier = null;
        if (!OpenSslLibrary.TryLoad(out IntPtr library))
        {
            return false;
        }
        try
        {
            var candidate = new OpenSslEcMultiplier(library);
            // Self-test on every curve against BouncyCastle before trusting the binding.
            foreach ((CurveKind kind, _) in Curves)
            {
                EcCurve curve = EcCurve.Get(kind);
                BigInteger k = BigInteger.ValueOf(0x1234567);
                ECPoint expected = curve.G.Multiply(k).Normalize();
                if (!candidate.Multiply(curve, null, k).Equals(expected) || !candidate.Multiply(curve, curve.G, k).Equals(expected)
                    || !candidate.SumOfTwoMultiplies(curve, k, curve.G, BigInteger.One).Equals(curve.G.Multiply(k.Add(BigInteger.One)).Normalize())
                    || !candidate.SumOfTwoMultiplies(curve, k, curve.G, curve.Order.Subtract(k)).IsInfinity)
                {
                    return false;
                }
            }
            multiplier = candidate;
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    public ECPoint Multiply(EcCurve curve, ECPoint? point, BigInteger k) =>
        point is null ? Mul(curve, k, null, null) : Mul(curve, null, point, k);

    /// <summary>
    /// OpenSSL on P-256 and P-384; BouncyCastle on secp256k1, whose GLV endomorphism makes it twice as fast there as
    /// OpenSSL's generic wNAF (CurveBenchmarks, fresh points: 173 µs against 339 µs; P-256 73 µs against 249 µs).
    /// </summary>
    public ECPoint SumOfTwoMultiplies(EcCurve curve, BigInteger a, ECPoint point, BigInteger b) =>
        curve.Kind == CurveKind.Secp256k1 ? _managed.SumOfTwoMultiplies(curve, a, point, b) : Mul(curve, a, point, b);

    /// <summary>EC_POINT_mul: generatorScalar·G + pointScalar·point, either term absent when its scalar is null.</summary>
    private ECPoint Mul(EcCurve curve, BigInteger? generatorScalar, ECPoint? point, BigInteger? pointScalar)
    {
        IntPtr group = _groups[curve.Kind];
        IntPtr result = _pointNew(group);
        IntPtr input = IntPtr.Zero;
        IntPtr n = IntPtr.Zero;
        IntPtr m = IntPtr.Zero;
        byte[]? nBytes = generatorScalar is null ? null : curve.EncodeScalar(generatorScalar);
        byte[]? mBytes = pointScalar is null ? null : curve.EncodeScalar(pointScalar);
        try
        {
            n = ToBn(nBytes);
            m = ToBn(mBytes);
            if (point is not null)
            {
                byte[] encoded = point.GetEncoded(false);
                input = _pointNew(group);
                fixed (byte* e = encoded)
                {
                    if (_oct2Point(group, input, e, (nuint)encoded.Length, IntPtr.Zero) != 1)
                    {
                        throw new CryptographicException("EC_POINT_oct2point refused the point.");
                    }
                }
            }
            if (result == IntPtr.Zero || (nBytes is not null && n == IntPtr.Zero) || (mBytes is not null && m == IntPtr.Zero)
                || _mul(group, result, n, input, m, IntPtr.Zero) != 1)
            {
                throw new CryptographicException("EC_POINT_mul failed.");
            }
            if (_isAtInfinity(group, result) == 1)
            {
                return curve.Infinity;
            }
            byte[] output = new byte[2 * curve.FieldLength + 1];
            fixed (byte* o = output)
            {
                if (_point2Oct(group, result, Uncompressed, o, (nuint)output.Length, IntPtr.Zero) != (nuint)output.Length)
                {
                    throw new CryptographicException("EC_POINT_point2oct failed.");
                }
            }
            return curve.DecodeTrusted(output);
        }
        finally
        {
            if (nBytes is not null)
            {
                CryptographicOperations.ZeroMemory(nBytes);
            }
            if (mBytes is not null)
            {
                CryptographicOperations.ZeroMemory(mBytes);
            }
            _bnClearFree(n);
            _bnClearFree(m);
            _pointClearFree(input);
            _pointClearFree(result);
        }
    }

    private IntPtr ToBn(byte[]? bytes)
    {
        if (bytes is null)
        {
            return IntPtr.Zero;
        }
        fixed (byte* b = bytes)
        {
            return _bin2Bn(b, bytes.Length, IntPtr.Zero);
        }
    }
}
