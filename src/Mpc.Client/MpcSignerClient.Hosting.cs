using Grpc.Core;

namespace Mpc.Client;

public sealed partial class MpcSignerClient
{
    /// <summary>
    /// A client over a call invoker someone else owns (AddMpcSigner's, from IHttpClientFactory). The address is the
    /// one the invoker calls, already checked by <see cref="TransportSecurity.Check"/>, for the insecure-http warning.
    /// </summary>
    internal MpcSignerClient(CallInvoker invoker, Uri server, Func<CancellationToken, ValueTask<string>> tokenProvider, MpcSignerClientOptions options)
        : this(invoker, server.ToString(), tokenProvider, options)
    {
        _insecure = TransportSecurity.IsInsecure(server);
    }
}
