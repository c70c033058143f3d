using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mpc.Client.Documents;

/// <summary>Certificates for split keys, made through any <see cref="ECDsa"/> (in practice <see cref="MpcECDsa"/>).</summary>
public static class SignerCertificates
{
    /// <summary>
    /// A self-signed end-entity certificate for <paramref name="key"/>: basicConstraints CA:FALSE (critical),
    /// keyUsage digitalSignature + nonRepudiation (critical), subject and authority key identifiers, a random
    /// 16-byte serial number. Signing the certificate takes one signature with the key.
    /// </summary>
    /// <remarks>
    /// CA:FALSE because this key signs documents, never certificates. OpenSSL 3 still accepts the certificate as its
    /// own trust anchor (<c>openssl cms -verify -CAfile CERT</c>: a trusted certificate that is the leaf itself needs
    /// neither CA:TRUE nor keyCertSign), and so does .NET's <see cref="X509Chain"/> with a custom trust store.
    /// <c>CertificateRequest.CreateSelfSigned</c> is not used: it attaches the private key through
    /// <c>CopyWithPrivateKey</c>, which a key that exists in no one place cannot support.
    /// </remarks>
    public static X509Certificate2 CreateSelfSigned(ECDsa key, X500DistinguishedName subject, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(subject);
        if (notAfter <= notBefore)
        {
            throw new ArgumentException("The certificate must end after it starts.", nameof(notAfter));
        }
        var request = new CertificateRequest(subject, key, CadesSignature.HashFor(key));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, critical: true));
        var subjectKeyIdentifier = new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false);
        request.CertificateExtensions.Add(subjectKeyIdentifier);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(subjectKeyIdentifier));

        // RFC 5280 wants a positive serial of at most 20 bytes; 127 random bits make it unguessable, so a
        // chosen-prefix collision on the certificate's signature cannot be prepared in advance.
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return request.Create(subject, X509SignatureGenerator.CreateForECDsa(key), notBefore, notAfter, serial);
    }

    /// <summary>Reads certificates from PEM ("BEGIN CERTIFICATE" blocks, in order) or from one DER certificate.</summary>
    public static X509Certificate2Collection Read(ReadOnlySpan<byte> pemOrDer)
    {
        var certificates = new X509Certificate2Collection();
        string text = System.Text.Encoding.ASCII.GetString(pemOrDer);
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            certificates.ImportFromPem(text);
        }
        else
        {
            certificates.Add(X509CertificateLoader.LoadCertificate(pemOrDer));
        }
        return certificates;
    }

    /// <summary>PEM of every certificate, in order.</summary>
    public static string ToPem(IEnumerable<X509Certificate2> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        return string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n"));
    }
}
