using Mpc.Crypto.Curves;
using Mpc.Transport.V1;

namespace Mpc.Client;

/// <summary>The server's public record of a key; <see cref="CertificateChain"/> is leaf first, empty when none was set.</summary>
public sealed record MpcKeyInfo(
    string KeyId, CurveKind Curve, string PublicKeyPem, byte[] SubjectPublicKeyInfo, bool Frozen, DateTimeOffset CreatedAt,
    IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> CertificateChain)
{
    /// <summary>The server's record as a value; a record this SDK cannot read (a certificate that does not parse, a
    /// timestamp out of range, an unknown curve) is <see cref="MpcErrorReason.MalformedMessage"/>, as any other reply
    /// that fails a check here.</summary>
    internal static MpcKeyInfo From(KeyInfo info)
    {
        try
        {
            return new(
                info.KeyId,
                EcCurve.Parse(info.Curve),
                info.PublicKeyPem,
                info.PublicKey.ToByteArray(),
                info.Status == KeyStatus.Frozen,
                ServerTimestamp.From(info.CreatedUnixMs, $"the server's record of key {info.KeyId}"),
                [.. info.CertificateChain.Select(c => System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(c.Span))])
            {
                Imported = info.Imported,
            };
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException or Mpc.Crypto.MpcProtocolException)
        {
            throw new MpcSignerException(MpcErrorReason.MalformedMessage, $"the server's record of key {info.KeyId} does not parse ({e.GetType().Name})", e);
        }
    }

    /// <summary>True when the key was imported from a key its owner once held whole.</summary>
    public bool Imported { get; init; }
}
