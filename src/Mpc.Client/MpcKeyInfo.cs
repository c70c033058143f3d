using Mpc.Crypto.Curves;
using Mpc.Transport.V1;

namespace Mpc.Client;

/// <summary>The server's public record of a key; <see cref="CertificateChain"/> is leaf first, empty when none was set.</summary>
public sealed record MpcKeyInfo(
    string KeyId, CurveKind Curve, string PublicKeyPem, byte[] SubjectPublicKeyInfo, bool Frozen, DateTimeOffset CreatedAt,
    IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> CertificateChain)
{
    internal static MpcKeyInfo From(KeyInfo info) => new(
        info.KeyId,
        EcCurve.Parse(info.Curve),
        info.PublicKeyPem,
        info.PublicKey.ToByteArray(),
        info.Status == KeyStatus.Frozen,
        DateTimeOffset.FromUnixTimeMilliseconds(info.CreatedUnixMs),
        [.. info.CertificateChain.Select(c => System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(c.Span))])
    {
        Imported = info.Imported,
    };

    /// <summary>True when the key was imported from a key its owner once held whole.</summary>
    public bool Imported { get; init; }
}
