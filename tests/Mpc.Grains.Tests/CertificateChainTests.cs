using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mpc.Crypto.Curves;
using Mpc.Grains;
using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Tests;

/// <summary>The grain's one validation point for certificate chains, without a server.</summary>
public sealed class CertificateChainTests
{
    [Fact]
    public void AssignCertificateChain_takes_the_keys_own_certificate_and_leaves_the_key_unchanged_on_refusal()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var stored = new StoredKey { KeyId = "k1", Curve = (int)CurveKind.P256, PublicKey = Compressed(key) };
        using X509Certificate2 own = SelfSigned("CN=Own", key);
        CertificateChains.Assign(stored, [own.RawData]);
        Assert.Equal(own.RawData, Assert.Single(stored.CertificateChain));

        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 other = SelfSigned("CN=Own", otherKey);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using X509Certificate2 otherCurve = SelfSigned("CN=Own", p384);
        foreach (byte[][] refused in new byte[][][]
        {
            [other.RawData],
            [otherCurve.RawData],
            [own.RawData, other.RawData],
            [own.RawData[..^1]],
            [System.Text.Encoding.ASCII.GetBytes(own.ExportCertificatePem())],
            [],
            [.. Enumerable.Repeat(own.RawData, 11)],
            [new byte[70 * 1024]],
        })
        {
            SignerException e = Assert.Throws<SignerException>(() => CertificateChains.Assign(stored, refused));
            Assert.Equal(SignerErrorKind.InvalidArgument, e.Kind);
            Assert.DoesNotContain('\n', e.Message);
            Assert.Equal(own.RawData, Assert.Single(stored.CertificateChain));
        }
    }

    [Fact]
    public void A_chain_through_rsa_pss_and_ec_issuers_is_taken()
    {
        // The bounds below must not refuse what CAs issue: an RSA-PSS root over an EC P-384 intermediate.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rootKey = RSA.Create(2048);
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var pss = X509SignatureGenerator.CreateForRSA(rootKey, RSASignaturePadding.Pss);
        byte[] root = CraftedCertificates.SelfIssued("CN=Root", new PublicKey(rootKey), pss);
        byte[] intermediate = CraftedCertificates.Issue("CN=Intermediate", new PublicKey(intermediateKey), "CN=Root", pss);
        byte[] leaf = CraftedCertificates.Issue("CN=Leaf", new PublicKey(key), "CN=Intermediate", X509SignatureGenerator.CreateForECDsa(intermediateKey));
        var stored = new StoredKey { KeyId = "k1", Curve = (int)CurveKind.P256, PublicKey = Compressed(key) };

        CertificateChains.Assign(stored, [leaf, intermediate, root]);

        Assert.Equal([leaf, intermediate, root], stored.CertificateChain);
    }

    [Fact]
    public void An_rsa_pss_signature_value_above_the_issuers_modulus_is_invalid_argument()
    {
        // BouncyCastle's PSS verifier throws DataLengthException for it (PKCS#1 v1.5 answers false): a client's
        // malformed chain, not a server failure.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuerKey = RSA.Create(2048);
        var pss = X509SignatureGenerator.CreateForRSA(issuerKey, RSASignaturePadding.Pss);
        byte[] issuer = CraftedCertificates.SelfIssued("CN=Issuer", new PublicKey(issuerKey), pss);
        byte[] leaf = CraftedCertificates.Issue("CN=Leaf", new PublicKey(key), "CN=Issuer", pss);
        var stored = new StoredKey { KeyId = "k1", Curve = (int)CurveKind.P256, PublicKey = Compressed(key) };
        CertificateChains.Assign(stored, [leaf, issuer]);
        byte[] oversized = CraftedCertificates.WithSignatureValue(leaf, Enumerable.Repeat((byte)0xFF, 256).ToArray());

        SignerException e = Assert.Throws<SignerException>(() => CertificateChains.Assign(stored, [oversized, issuer]));

        Assert.Equal(SignerErrorKind.InvalidArgument, e.Kind);
        Assert.StartsWith("Certificate 1's signature cannot be checked with certificate 2's key (DataLengthException: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal([leaf, issuer], stored.CertificateChain);
    }

    [Fact]
    public void An_issuer_key_beyond_the_bounds_is_refused_by_its_size_or_type_before_any_signature_check()
    {
        // Keys built to cost work: BouncyCastle validates a 16384-bit modulus without small factors by Miller-Rabin
        // (seconds), verifies with any exponent, and builds any explicit curve. The leaf's signature is real, so
        // only the bound can refuse these chains.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var signerKey = RSA.Create(2048);
        var signer = X509SignatureGenerator.CreateForRSA(signerKey, RSASignaturePadding.Pkcs1);
        byte[] leaf = CraftedCertificates.Issue("CN=Leaf", new PublicKey(key), "CN=Issuer", signer);
        var stored = new StoredKey { KeyId = "k1", Curve = (int)CurveKind.P256, PublicKey = Compressed(key) };
        using var explicitCurve = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var explicitCopy = ECDsa.Create(explicitCurve.ExportExplicitParameters(false));
        RSAParameters signerPublic = signerKey.ExportParameters(false);
        var modulus = new System.Numerics.BigInteger(signerPublic.Modulus, isUnsigned: true, isBigEndian: true);
        var absurdExponent = (System.Numerics.BigInteger.One << 4096) - 1;
        using var dsa = DSA.Create(1024);

        foreach ((PublicKey issuerKey, string message) in new (PublicKey, string)[]
        {
            (CraftedCertificates.RsaPublicKey(CraftedCertificates.ModulusWithoutSmallFactors(16384), 65537),
                "Certificate 2's RSA key has a 16384-bit modulus; issuer keys of at most 4096 bits are accepted."),
            (CraftedCertificates.RsaPublicKey(modulus, absurdExponent),
                "Certificate 2's RSA public exponent (4096 bits) is not an odd number from 3 to 2^256 - 1."),
            (CraftedCertificates.RsaPublicKey(modulus, 65536),
                "Certificate 2's RSA public exponent (17 bits) is not an odd number from 3 to 2^256 - 1."),
            (new PublicKey(explicitCopy),
                "Certificate 2's EC key is not on a named curve; issuer keys on a named curve only are accepted."),
            (new PublicKey(dsa),
                "Certificate 2's key (1.2.840.10040.4.1) is not accepted for an issuer: RSA of at most 4096 bits, EC on a named curve, Ed25519 or Ed448."),
        })
        {
            byte[] issuer = CraftedCertificates.SelfIssued("CN=Issuer", issuerKey, signer);
            SignerException e = Assert.Throws<SignerException>(() => CertificateChains.Assign(stored, [leaf, issuer]));
            Assert.Equal(SignerErrorKind.InvalidArgument, e.Kind);
            Assert.Equal(message, e.Message);
            Assert.Empty(stored.CertificateChain);
        }
    }

    [Fact]
    public void A_leaf_for_another_key_is_refused_before_its_issuers_are_looked_at()
    {
        // The cheapest check decides first: a chain whose leaf is wrong costs no issuer key validation at all.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var signerKey = RSA.Create(2048);
        var signer = X509SignatureGenerator.CreateForRSA(signerKey, RSASignaturePadding.Pkcs1);
        byte[] issuer = CraftedCertificates.SelfIssued("CN=Issuer", CraftedCertificates.RsaPublicKey(CraftedCertificates.ModulusWithoutSmallFactors(16384), 65537), signer);
        byte[] leaf = CraftedCertificates.Issue("CN=Leaf", new PublicKey(otherKey), "CN=Issuer", signer);
        var stored = new StoredKey { KeyId = "k1", Curve = (int)CurveKind.P256, PublicKey = Compressed(key) };

        SignerException e = Assert.Throws<SignerException>(() => CertificateChains.Assign(stored, [leaf, issuer]));

        Assert.Equal(SignerErrorKind.InvalidArgument, e.Kind);
        Assert.Equal("The first certificate (CN=Leaf) is not for this key: its public key differs from the key's P-256 public key.", e.Message);
    }

    private static byte[] Compressed(ECDsa key)
    {
        ECParameters parameters = key.ExportParameters(false);
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        return curve.EncodePoint(curve.DomainParameters.Curve.DecodePoint([0x04, .. parameters.Q.X!, .. parameters.Q.Y!]));
    }

    private static X509Certificate2 SelfSigned(string subject, ECDsa key) =>
        new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
}
