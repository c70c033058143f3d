using Grpc.Core;
using Grpc.Net.Client;
using Mpc.Transport.V1;

namespace Mpc.Testing;

/// <summary>The generated gRPC client with a fixed bearer token, for messages the SDK would never send.</summary>
public sealed class RawSigner : IDisposable
{
    private readonly GrpcChannel _channel;

    public RawSigner(Uri address, string? token)
    {
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxSendMessageSize = 4 * 1024 * 1024 });
        Client = new Signer.SignerClient(_channel);
        Headers = token is null ? [] : new Metadata { { "authorization", "Bearer " + token } };
    }

    public Signer.SignerClient Client { get; }

    public Metadata Headers { get; }

    /// <summary>Runs a call and returns the status code it failed with (OK when it succeeded).</summary>
    public static async Task<StatusCode> StatusOf<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    public void Dispose() => _channel.Dispose();
}
