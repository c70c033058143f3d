using System.Buffers.Text;
using System.Security.Cryptography.X509Certificates;
using Mpc.Client.Documents;

namespace Mpc.Client;

public sealed partial class MpcSignerClient
{
    /// <summary>
    /// Makes a self-signed certificate for <paramref name="key"/> (<see cref="SignerCertificates.CreateSelfSigned"/>)
    /// and stores it as the key's certificate chain on the server. Cancellation is honoured before the
    /// certificate is signed and before it is stored, not during its one signature.
    /// </summary>
    public async Task<X509Certificate2> CreateSelfSignedCertificateAsync(
        MpcKey key, X500DistinguishedName subject, DateTimeOffset notBefore, DateTimeOffset notAfter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        // CertificateRequest signs synchronously; keep the blocking round trips off the caller's thread.
        X509Certificate2 certificate = await Task.Run(() =>
        {
            using MpcECDsa ecdsa = CreateECDsa(key);
            return SignerCertificates.CreateSelfSigned(ecdsa, subject, notBefore, notAfter);
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            await SetCertificateChainAsync(key.KeyId, [certificate], cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            certificate.Dispose();
            throw;
        }
        return certificate;
    }

    /// <summary>
    /// Signs <paramref name="payload"/> as a JWS in the compact serialization (<see cref="JwsSignature"/>): "alg" ES256,
    /// ES384 or ES256K by the key's curve, the rest of the protected header from <paramref name="options"/>, s low. One
    /// signature round with the server; the result is verified before it is returned.
    /// </summary>
    public async Task<string> SignJwsAsync(MpcKey key, ReadOnlyMemory<byte> payload, JwsOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        options ??= new JwsOptions();
        string header = Base64Url.EncodeToString(JwsSignature.Header(key.Curve, options));
        string encodedPayload = Base64Url.EncodeToString(payload.Span);
        MpcSignature signature = await SignDataAsync(
            key, System.Text.Encoding.ASCII.GetBytes(header + "." + encodedPayload), options: null, cancellationToken).ConfigureAwait(false);
        return $"{header}.{(options.DetachedPayload ? "" : encodedPayload)}.{Base64Url.EncodeToString(signature.ToP1363())}";
    }

    /// <summary>
    /// Signs <paramref name="document"/> as a detached CAdES-BES CMS (<see cref="CadesSignature.Sign(ReadOnlySpan{byte}, System.Security.Cryptography.ECDsa, IReadOnlyList{X509Certificate2}, DateTimeOffset?)"/>)
    /// with <paramref name="chain"/>, or, when it is null, with the chain stored in the server's record of the key.
    /// </summary>
    public async Task<byte[]> SignCmsAsync(
        MpcKey key, ReadOnlyMemory<byte> document, IReadOnlyList<X509Certificate2>? chain = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (chain is null)
        {
            MpcKeyInfo info = await GetKeyAsync(key.KeyId, cancellationToken).ConfigureAwait(false);
            chain = info.CertificateChain.Count > 0
                ? info.CertificateChain
                : throw new MpcSignerException(MpcErrorReason.DocumentSignature, $"Key {key.KeyId} has no certificate: store one with SetCertificateChainAsync or pass a chain.");
        }
        return await Task.Run(() =>
        {
            using MpcECDsa ecdsa = CreateECDsa(key);
            return CadesSignature.Sign(document.Span, ecdsa, chain);
        }, cancellationToken).ConfigureAwait(false);
    }
}
