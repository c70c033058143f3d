using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mpc.Protocol.Messages;
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

    /// <summary>BeginSign for <paramref name="keyId"/>: the commitment of a session (new or handed out again).</summary>
    public async Task<SignCommitment> BeginSignAsync(string keyId) =>
        SignCommitment.Decode((await Client.BeginSignAsync(new BeginSignRequest { KeyId = keyId }, Headers)).Commitment.Span);

    /// <summary>The nonce round as sent; the server's opening as it answered.</summary>
    public async Task<byte[]> SignNonceAsync(string keyId, SignNonce nonce) =>
        (await Client.SignNonceAsync(new SignNonceRequest { KeyId = keyId, Nonce = ByteString.CopyFrom(nonce.Encode()) }, Headers)).Opening.ToByteArray();

    /// <summary>SignFinish with <paramref name="ciphertext"/> for the session <paramref name="sessionId"/>; the encoded result.</summary>
    public async Task<byte[]> SignFinishAsync(string keyId, byte[] sessionId, SignCiphertext ciphertext) =>
        (await Client.SignFinishAsync(new SignFinishRequest
        {
            KeyId = keyId,
            SessionId = ByteString.CopyFrom(sessionId),
            Ciphertext = ByteString.CopyFrom(ciphertext.Encode()),
        }, Headers)).Result.ToByteArray();

    public void Dispose() => _channel.Dispose();
}
