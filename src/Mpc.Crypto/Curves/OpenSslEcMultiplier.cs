using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using CryptographicException = System.Security.Cryptography.CryptographicException;
using CryptographicOperations = System.Security.Cryptography.CryptographicOperations;
using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Curves;

/// <summary>
/// Scalar multiplication by a secret scalar. OpenSSL's <c>EC_POINT_mul</c> is constant-time in the scalar
/// (a Montgomery ladder, or nistz256 on P-256) and several times faster than BouncyCastle; BouncyCastle's
/// variable-base wNAF multiplier, the fallback, is neither.
/// </summary>
internal interface ISecretScalarMultiplier
{
    string Name { get; }

    /// <summary>k·P for a valid point P of <paramref name="curve"/> and 0 &lt; k &lt; q; null P means the generator.</summary>
    ECPoint Multiply(EcCurve curve, ECPoint? point, BigInteger k);
}

internal sealed class ManagedSecretScalarMultiplier : ISecretScalarMultiplier
{
    private readonly Org.BouncyCastle.Math.EC.Multiplier.FixedPointCombMultiplier _comb = new();

    public string Name => "managed";

    public ECPoint Multiply(EcCurve curve, ECPoint? point, BigInteger k) =>
        (point is null ? _comb.Multiply(curve.G, k) : point.Multiply(k)).Normalize();
}

internal static class SecretScalarMultipliers
{
    private static readonly Lazy<ISecretScalarMultiplier> DefaultMultiplier = new(() =>
        BigNumBackends.FromEnvironment() != BigNumBackendKind.Managed && OpenSslEcMultiplier.TryCreate(out ISecretScalarMultiplier? openssl)
            ? openssl
            : new ManagedSecretScalarMultiplier());

    /// <summary>Chosen once, like the big-number backend: OpenSSL unless it is missing or MPC_BIGNUM_BACKEND=managed.</summary>
    public static ISecretScalarMultiplier Default => DefaultMultiplier.Value;
}

internal sealed unsafe class OpenSslEcMultiplier : ISecretScalarMultiplier
{
    // OpenSSL NIDs: secp256k1, prime256v1 (P-256), secp384r1 (P-384).
    private static readonly (CurveKind Kind, int Nid)[] Curves = [(CurveKind.Secp256k1, 714), (CurveKind.P256, 415), (CurveKind.P384, 715)];
    private const int Uncompressed = 4;

    private readonly Dictionary<CurveKind, IntPtr> _groups = [];
    private readonly delegate* unmanaged<IntPtr, IntPtr> _pointNew;
    private readonly delegate* unmanaged<IntPtr, void> _pointClearFree;
    private readonly delegate* unmanaged<IntPtr, IntPtr, byte*, nuint, IntPtr, int> _oct2Point;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int, byte*, nuint, IntPtr, nuint> _point2Oct;
    private readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> _mul;
    private readonly delegate* unmanaged<byte*, int, IntPtr, IntPtr> _bin2Bn;
    private readonly delegate* unmanaged<IntPtr, void> _bnClearFree;

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

    public static bool TryCreate([NotNullWhen(true)] out ISecretScalarMultiplier? multiplier)
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
                if (!candidate.Multiply(curve, null, k).Equals(expected) || !candidate.Multiply(curve, curve.G, k).Equals(expected))
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

    public ECPoint Multiply(EcCurve curve, ECPoint? point, BigInteger k)
    {
        IntPtr group = _groups[curve.Kind];
        IntPtr result = _pointNew(group);
        IntPtr input = IntPtr.Zero;
        IntPtr scalar = IntPtr.Zero;
        byte[] scalarBytes = curve.EncodeScalar(k);
        try
        {
            fixed (byte* s = scalarBytes)
            {
                scalar = _bin2Bn(s, scalarBytes.Length, IntPtr.Zero);
            }
            int ok;
            if (point is null)
            {
                ok = _mul(group, result, scalar, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero);
            }
            else
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
                ok = _mul(group, result, IntPtr.Zero, input, scalar, IntPtr.Zero);
            }
            if (result == IntPtr.Zero || scalar == IntPtr.Zero || ok != 1)
            {
                throw new CryptographicException("EC_POINT_mul failed.");
            }
            byte[] output = new byte[2 * curve.FieldLength + 1];
            fixed (byte* o = output)
            {
                if (_point2Oct(group, result, Uncompressed, o, (nuint)output.Length, IntPtr.Zero) != (nuint)output.Length)
                {
                    throw new CryptographicException("EC_POINT_point2oct failed (the result is the identity?).");
                }
            }
            return curve.DomainParameters.Curve.DecodePoint(output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalarBytes);
            _bnClearFree(scalar);
            _pointClearFree(input);
            _pointClearFree(result);
        }
    }
}
