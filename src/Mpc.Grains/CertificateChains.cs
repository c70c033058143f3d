using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

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
    /// copies of the certificates to store. Throws <see cref="SignerException"/> (InvalidArgument) otherwise.
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
            for (int i = 0; i + 1 < certificates.Count; i++)
            {
                // Each certificate must be signed by the next one, so the stored chain is a chain; whether its top
                // is trusted (and validity, revocation) stays the verifier's decision.
                if (!certificates[i].IssuerName.RawData.AsSpan().SequenceEqual(certificates[i + 1].SubjectName.RawData)
                    || !SignedBy(chainDer[i], chainDer[i + 1]))
                {
                    throw Invalid($"Certificate {i + 2} did not issue certificate {i + 1}; order the chain leaf first, each followed by its issuer.");
                }
            }
            RequireLeafKey(certificates[0], curveKind, compressedPublicKey);
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

    private static bool SignedBy(byte[] subjectDer, byte[] issuerDer)
    {
        try
        {
            var parser = new Org.BouncyCastle.X509.X509CertificateParser();
            parser.ReadCertificate(subjectDer).Verify(parser.ReadCertificate(issuerDer).GetPublicKey());
            return true;
        }
        catch (Exception e) when (e is Org.BouncyCastle.Security.GeneralSecurityException or Org.BouncyCastle.Security.Certificates.CertificateException
            or Org.BouncyCastle.Security.InvalidKeyException or Org.BouncyCastle.Security.SecurityUtilityException or ArgumentException or InvalidOperationException or IOException)
        {
            return false;
        }
    }

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
