using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Math;

namespace Mpc.Grains;

/// <summary>
/// The one validation point for a key's certificate chain: whatever reaches <see cref="StoredKey.CertificateChain"/>
/// went through <see cref="Parse"/>. The chain is public data, but a leaf that certifies another key would make
/// every document signed with this key name the wrong signer, so the leaf must match the key exactly.
/// </summary>
internal static class CertificateChains
{
    public const int MaxCertificates = 10;
    public const int MaxTotalBytes = 64 * 1024;

    /// <summary>
    /// Validates <paramref name="chainDer"/> against <paramref name="key"/> and assigns it, without writing state.
    /// On refusal (<see cref="SignerException"/>, InvalidArgument) the key is unchanged.
    /// </summary>
    public static void Assign(StoredKey key, IReadOnlyList<byte[]> chainDer) =>
        key.CertificateChain = Parse(chainDer, key.CurveKind, key.PublicKey);

    /// <summary>
    /// Checks <paramref name="chainDer"/> (leaf first, DER) against the key's curve and public key and returns
    /// copies of the certificates to store. Throws <see cref="SignerException"/> (InvalidArgument, one line) otherwise,
    /// whatever part of the chain fails to parse or verify.
    /// </summary>
    public static List<byte[]> Parse(IReadOnlyList<byte[]>? chainDer, CurveKind curveKind, byte[] compressedPublicKey)
    {
        if (chainDer is null || chainDer.Count == 0)
        {
            throw Invalid("The certificate chain is empty; give at least the key's own certificate.");
        }
        if (chainDer.Count > MaxCertificates)
        {
            throw Invalid($"The certificate chain has {chainDer.Count} certificates; at most {MaxCertificates} are accepted.");
        }
        long total = chainDer.Sum(c => (long)(c?.Length ?? 0));
        if (total > MaxTotalBytes)
        {
            throw Invalid($"The certificate chain is {total} bytes; at most {MaxTotalBytes} are accepted.");
        }

        var certificates = new List<X509Certificate2>(chainDer.Count);
        try
        {
            for (int i = 0; i < chainDer.Count; i++)
            {
                certificates.Add(Load(chainDer[i], i));
            }
            // Cheap checks first, so a chain built to cost work (an issuer key whose BouncyCastle validation alone
            // runs Miller-Rabin on a 16384-bit modulus, or verifies with a huge exponent) is refused before any of
            // that work runs on the grain's scheduler.
            RequireLeafKey(certificates[0], curveKind, compressedPublicKey);
            var parsed = new List<Org.BouncyCastle.X509.X509Certificate>(certificates.Count);
            for (int i = 0; i < certificates.Count; i++)
            {
                parsed.Add(ParseStructure(chainDer[i], i));
                if (i > 0)
                {
                    RequireIssuerKey(parsed[i].CertificateStructure.SubjectPublicKeyInfo, i);
                }
            }
            for (int i = 0; i + 1 < certificates.Count; i++)
            {
                if (!certificates[i].IssuerName.RawData.AsSpan().SequenceEqual(certificates[i + 1].SubjectName.RawData))
                {
                    throw NotIssuedBy(i);
                }
            }
            for (int i = 0; i + 1 < parsed.Count; i++)
            {
                // Each certificate must be signed by the next one, so the stored chain is a chain; whether its top
                // is trusted (and validity, revocation) stays the verifier's decision.
                RequireSignedBy(parsed[i], parsed[i + 1], i);
            }
            return [.. certificates.Select(c => c.RawData)];
        }
        finally
        {
            foreach (X509Certificate2 certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>
    /// Largest RSA modulus accepted in an issuer's key. 4096 bits covers the CA keys in use (roots of 4096 bits are
    /// the largest common ones); BouncyCastle's key validation costs about 0.1 s at that size, and 5 s at 16384.
    /// </summary>
    public const int MaxRsaIssuerBits = 4096;

    /// <summary>Longest RSA public exponent accepted (FIPS 186-5 bounds e below 2^256); it bounds the verification's cost.</summary>
    public const int MaxRsaExponentBits = 256;

    /// <summary>
    /// Bounds the work any issuer's key can cause before it is built: RSA within <see cref="MaxRsaIssuerBits"/> with a
    /// sane exponent, EC only on a named curve (explicit parameters could describe any field), or EdDSA (fixed size).
    /// Other key types (DSA, whose parameters are unbounded, GOST, ...) are refused.
    /// </summary>
    private static void RequireIssuerKey(SubjectPublicKeyInfo key, int index)
    {
        DerObjectIdentifier algorithm = key.Algorithm.Algorithm;
        if (algorithm.Equals(PkcsObjectIdentifiers.RsaEncryption) || algorithm.Equals(PkcsObjectIdentifiers.IdRsassaPss))
        {
            RsaPublicKeyStructure rsa;
            try
            {
                rsa = RsaPublicKeyStructure.GetInstance(key.ParsePublicKey());
            }
            catch (Exception e) when (IsRefusedInput(e))
            {
                throw Invalid($"Certificate {index + 1}'s RSA key is malformed ({OneLine(e)}).");
            }
            if (rsa.Modulus.SignValue <= 0 || rsa.Modulus.BitLength > MaxRsaIssuerBits)
            {
                throw Invalid($"Certificate {index + 1}'s RSA key has a {rsa.Modulus.BitLength}-bit modulus; issuer keys of at most {MaxRsaIssuerBits} bits are accepted.");
            }
            BigInteger exponent = rsa.PublicExponent;
            if (exponent.CompareTo(BigInteger.Three) < 0 || !exponent.TestBit(0) || exponent.BitLength > MaxRsaExponentBits)
            {
                throw Invalid($"Certificate {index + 1}'s RSA public exponent ({exponent.BitLength} bits) is not an odd number from 3 to 2^{MaxRsaExponentBits} - 1.");
            }
            return;
        }
        if (algorithm.Equals(X9ObjectIdentifiers.IdECPublicKey))
        {
            if (key.Algorithm.Parameters is not DerObjectIdentifier curve || ECNamedCurveTable.GetName(curve) is null)
            {
                throw Invalid($"Certificate {index + 1}'s EC key is not on a named curve; issuer keys on a named curve only are accepted.");
            }
            return;
        }
        if (algorithm.Equals(EdECObjectIdentifiers.id_Ed25519) || algorithm.Equals(EdECObjectIdentifiers.id_Ed448))
        {
            return;
        }
        throw Invalid($"Certificate {index + 1}'s key ({algorithm.Id}) is not accepted for an issuer: RSA of at most {MaxRsaIssuerBits} bits, EC on a named curve, Ed25519 or Ed448.");
    }

    private static Org.BouncyCastle.X509.X509Certificate ParseStructure(byte[] der, int index)
    {
        try
        {
            return new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(der)
                ?? throw Invalid($"Certificate {index + 1} of the chain is not a DER X.509 certificate.");
        }
        catch (Exception e) when (IsRefusedInput(e))
        {
            throw Invalid($"Certificate {index + 1} of the chain is not a DER X.509 certificate ({OneLine(e)}).");
        }
    }

    private static void RequireSignedBy(Org.BouncyCastle.X509.X509Certificate subject, Org.BouncyCastle.X509.X509Certificate issuer, int index)
    {
        try
        {
            subject.Verify(issuer.GetPublicKey());
        }
        catch (Org.BouncyCastle.Security.InvalidKeyException)
        {
            // BouncyCastle's answer for a signature that does not verify.
            throw NotIssuedBy(index);
        }
        catch (Exception e) when (IsRefusedInput(e))
        {
            throw Invalid($"Certificate {index + 1}'s signature cannot be checked with certificate {index + 2}'s key ({OneLine(e)}).");
        }
    }

    /// <summary>
    /// Whatever BouncyCastle throws while parsing or verifying the client's certificates is the client's mistake: the
    /// types vary by algorithm (an RSASSA-PSS signature value above the modulus is a DataLengthException, a malformed
    /// structure an InvalidCastException or IOException), and the only input is the chain. Running out of memory is not.
    /// </summary>
    private static bool IsRefusedInput(Exception e) => e is not (OutOfMemoryException or SignerException);

    private static string OneLine(Exception e)
    {
        string message = string.Join(' ', e.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
        message = message.Length <= 160 ? message : message[..160] + "…";
        return $"{e.GetType().Name}: {message}";
    }

    private static SignerException NotIssuedBy(int index) =>
        Invalid($"Certificate {index + 2} did not issue certificate {index + 1}; order the chain leaf first, each followed by its issuer.");

    private static X509Certificate2 Load(byte[]? der, int index)
    {
        if (der is null || der.Length == 0)
        {
            throw Invalid($"Certificate {index + 1} of the chain is empty.");
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException)
        {
            throw Invalid($"Certificate {index + 1} of the chain is not a DER X.509 certificate.");
        }
        // The loader also takes PEM; storing exactly the DER we were given keeps one encoding in the record.
        if (!certificate.RawData.AsSpan().SequenceEqual(der))
        {
            certificate.Dispose();
            throw Invalid($"Certificate {index + 1} of the chain is not a DER X.509 certificate.");
        }
        return certificate;
    }

    private static void RequireLeafKey(X509Certificate2 leaf, CurveKind curveKind, byte[] compressedPublicKey)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        Org.BouncyCastle.Math.EC.ECPoint key = curve.DecodePoint(compressedPublicKey, "public key");
        byte[] expected = PublicKeyEncoding.ToSubjectPublicKeyInfo(curve, key);
        byte[] actual = leaf.PublicKey.ExportSubjectPublicKeyInfo();
        if (actual.AsSpan().SequenceEqual(expected) || SamePoint(actual, expected, curve, key))
        {
            return;
        }
        throw Invalid($"The first certificate ({leaf.Subject}) is not for this key: its public key differs from the key's {curve.Name} public key.");
    }

    /// <summary>The same algorithm and curve, and the same point, perhaps encoded compressed.</summary>
    private static bool SamePoint(byte[] actual, byte[] expected, EcCurve curve, Org.BouncyCastle.Math.EC.ECPoint key)
    {
        try
        {
            var given = SubjectPublicKeyInfo.GetInstance(actual);
            var ours = SubjectPublicKeyInfo.GetInstance(expected);
            if (!given.Algorithm.GetEncoded(Asn1Encodable.Der).AsSpan().SequenceEqual(ours.Algorithm.GetEncoded(Asn1Encodable.Der)))
            {
                return false;
            }
            return curve.DomainParameters.Curve.DecodePoint(given.PublicKey.GetOctets()).Normalize().Equals(key);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidCastException)
        {
            return false;
        }
    }

    private static SignerException Invalid(string message) => new(SignerErrorKind.InvalidArgument, message);
}
