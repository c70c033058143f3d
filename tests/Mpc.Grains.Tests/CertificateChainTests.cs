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

    private static byte[] Compressed(ECDsa key)
    {
        ECParameters parameters = key.ExportParameters(false);
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        return curve.EncodePoint(curve.DomainParameters.Curve.DecodePoint([0x04, .. parameters.Q.X!, .. parameters.Q.Y!]));
    }

    private static X509Certificate2 SelfSigned(string subject, ECDsa key) =>
        new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
}
