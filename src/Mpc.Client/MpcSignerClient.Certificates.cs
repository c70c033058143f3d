using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Mpc.Transport.V1;

namespace Mpc.Client;

public sealed partial class MpcSignerClient
{
    /// <summary>
    /// Stores <paramref name="chain"/> (leaf first; the leaf must certify this key's public key) in the server's
    /// record of the key, replacing any chain set before. Returns the updated record.
    /// </summary>
    public async Task<MpcKeyInfo> SetCertificateChainAsync(string keyId, IEnumerable<X509Certificate2> chain, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var request = new SetCertificateChainRequest { KeyId = keyId };
        request.CertificateChain.AddRange(chain.Select(c => ByteString.CopyFrom(c.RawData)));
        KeyInfo info = await Call(o => _grpc.SetCertificateChainAsync(request, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        return MpcKeyInfo.From(info);
    }
}
