using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Mpc.Transport.V1;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// Mutated requests against the in-process server (<see cref="Mutations"/>): whole request bodies, and the protocol
/// payloads inside well-formed requests. Every reply is success or a refusal with a client-error status (never
/// Internal or Unknown), and the stored key is unchanged afterwards: same public key, not frozen, still signs.
/// </summary>
[Collection("server")]
public sealed class GrpcFuzzTests(ServerFixture server) : IAsyncLifetime
{
    private const string Owner = "grpc-fuzz-owner";

    // Key generations left pending count against their user's cap: mutated BeginKeyGen bodies are another user's.
    private const string KeyGenUser = "grpc-fuzz-keygen";

    // One key for the class (key generation takes a second or two); each test opens it afresh.
    private static readonly SemaphoreSlim OwnerKeyLock = new(1, 1);
    private static byte[]? s_ownerShare;

    // The refusals a malformed request may get. Internal, Unknown, DataLoss, Unimplemented or Unavailable mean the
    // server failed on the input instead of refusing it.
    private static readonly StatusCode[] ClientErrors =
    [
        StatusCode.OK, StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.FailedPrecondition,
        StatusCode.PermissionDenied, StatusCode.ResourceExhausted, StatusCode.AlreadyExists, StatusCode.OutOfRange,
    ];

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    private MpcSignerClient _client = null!;
    private MpcKey _key = null!;
    private RawSigner _raw = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _client = server.Client(Owner);
        _raw = server.Raw(server.Token(Owner));
        _channel = GrpcChannel.ForAddress(server.Address);
        await OwnerKeyLock.WaitAsync();
        try
        {
            if (s_ownerShare is null)
            {
                using MpcKey created = await _client.CreateKeyAsync(CurveKind.P256);
                s_ownerShare = created.Share.ExportSecret();
            }
        }
        finally
        {
            OwnerKeyLock.Release();
        }
        _key = _client.OpenKey(Mpc.Protocol.Keys.ClientKeyShare.ImportSecret(s_ownerShare, Mpc.Crypto.BigNum.BigNumBackends.Default));
    }

    public Task DisposeAsync()
    {
        _channel.Dispose();
        _raw.Dispose();
        _key.Dispose();
        _client.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Sends <paramref name="body"/> as the request message of <paramref name="method"/>, as it is: the status it gets.</summary>
    private async Task<StatusCode> SendRaw(string method, byte[] body, Metadata headers)
    {
        var descriptor = new Method<byte[], byte[]>(MethodType.Unary, Signer.Descriptor.FullName, method, Bytes, Bytes);
        try
        {
            await _channel.CreateCallInvoker().AsyncUnaryCall(descriptor, null, new CallOptions(headers), body);
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    private void AssertClientError(Mutations mutations, string name, Mutant mutant, StatusCode status)
    {
        if (!ClientErrors.Contains(status))
        {
            throw mutations.Failure(mutant, new RpcException(new Status(status, "as the server answered")), name);
        }
    }

    /// <summary>The stored key as before: same public key, not frozen, and it signs a digest that verifies.</summary>
    private async Task AssertKeyUnchanged()
    {
        MpcKeyInfo info = await _client.GetKeyAsync(_key.KeyId);
        Assert.False(info.Frozen);
        Assert.Equal(_key.SubjectPublicKeyInfo, info.SubjectPublicKeyInfo);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        MpcSignature signature = await _client.SignDigestAsync(_key, digest);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, _key.SubjectPublicKeyInfo, digest, signature));
    }

    private async Task<SignNonceRequest> NonceRequest()
    {
        SignCommitment commitment = await _raw.BeginSignAsync(_key.KeyId);
        var session = new SignClientSession(_key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        return new SignNonceRequest { KeyId = _key.KeyId, Nonce = ByteString.CopyFrom(session.HandleCommitment(commitment).Encode()) };
    }

    [Fact]
    public async Task Mutated_request_bodies_get_a_client_error_and_leave_the_key_as_it_was()
    {
        var originals = new List<(string Method, byte[] Body)>
        {
            ("GetKey", new GetKeyRequest { KeyId = _key.KeyId }.ToByteArray()),
            ("BeginSign", new BeginSignRequest { KeyId = _key.KeyId }.ToByteArray()),
            ("SignNonce", (await NonceRequest()).ToByteArray()),
            ("GetAudit", new GetAuditRequest { KeyId = _key.KeyId, FromSequence = 1, MaxCount = 5 }.ToByteArray()),
            ("ListDevices", new ListDevicesRequest { KeyId = _key.KeyId }.ToByteArray()),
            ("BeginKeyGen", new BeginKeyGenRequest { Request = ByteString.CopyFrom(new KeyGenRequest(CurveKind.P256, new byte[32]).Encode()) }.ToByteArray()),
        };
        var keyGenHeaders = new Metadata { { "authorization", "Bearer " + server.Token(KeyGenUser) } };
        var mutations = new Mutations("gRPC request bodies");
        foreach ((string method, Mutant mutant) in mutations.Of(originals, Mutations.Iterations(40) * originals.Count))
        {
            AssertClientError(mutations, method, mutant, await SendRaw(method, mutant.Bytes, method == "BeginKeyGen" ? keyGenHeaders : _raw.Headers));
        }
        await AssertKeyUnchanged();
    }

    [Fact]
    public async Task Mutated_nonce_rounds_get_a_client_error_and_leave_the_key_as_it_was()
    {
        var mutations = new Mutations("gRPC SignNonce payload");
        for (int i = 0; i < Mutations.Iterations(60); i++)
        {
            SignNonceRequest request = await NonceRequest();
            Mutant mutant = mutations.Of(request.Nonce.ToByteArray(), 1).Single() with { Index = i };
            request.Nonce = ByteString.CopyFrom(mutant.Bytes);
            AssertClientError(mutations, "SignNonce", mutant, await RawSigner.StatusOf(async () => await _raw.Client.SignNonceAsync(request, _raw.Headers)));
        }
        await AssertKeyUnchanged();
    }

    [Fact]
    public async Task Mutated_ciphertexts_get_a_client_error_and_never_freeze_the_key()
    {
        var mutations = new Mutations("gRPC SignFinish payload");
        // Few: each reaches the server's proof check (big-number work) or its decoding.
        for (int i = 0; i < Mutations.Iterations(12); i++)
        {
            SignCommitment commitment = await _raw.BeginSignAsync(_key.KeyId);
            var session = new SignClientSession(_key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
            byte[] opening = await _raw.SignNonceAsync(_key.KeyId, session.HandleCommitment(commitment));
            SignCiphertext ciphertext = session.HandleOpening(SignOpening.Decode(opening, CurveKind.P256));
            Mutant mutant = mutations.Of(ciphertext.Encode(), 1).Single() with { Index = i };
            var request = new SignFinishRequest
            {
                KeyId = _key.KeyId,
                SessionId = ByteString.CopyFrom(commitment.ServerSessionId),
                Ciphertext = ByteString.CopyFrom(mutant.Bytes),
            };
            StatusCode status = await RawSigner.StatusOf(async () => await _raw.Client.SignFinishAsync(request, _raw.Headers));
            AssertClientError(mutations, "SignFinish", mutant, status);
            Assert.False((await _client.GetKeyAsync(_key.KeyId)).Frozen, $"A mutated ciphertext froze the key. Repeat with {mutations.Reproduce}, mutant {mutant}.");
        }
        await AssertKeyUnchanged();
    }

    [Fact]
    public async Task Mutated_audit_pages_are_refused_or_verified_as_what_they_say_and_the_stored_log_still_verifies()
    {
        MpcAuditVerification honest = await _client.VerifyAuditLogAsync(_key.KeyId);
        Assert.True(honest.IsValid, honest.Error);
        var wire = new ReplacedGrpcReplies("/GetAudit");
        byte[]? original = null;
        wire.Reply = reply => original ??= reply;
        using var client = new MpcSignerClient(server.Address, server.Token(Owner),
            new MpcSignerClientOptions { DeviceProfileStore = server.DeviceProfiles, HttpHandler = wire });
        Assert.True((await client.VerifyAuditLogAsync(_key.KeyId)).IsValid);
        GetAuditResponse page = GetAuditResponse.Parser.ParseFrom(original);
        Assert.NotEmpty(page.Entries);

        var mutations = new Mutations("audit pages");
        foreach (Mutant mutant in mutations.Of(original!, Mutations.Iterations(200)))
        {
            wire.Reply = _ => mutant.Bytes;
            await mutations.CheckAsync(mutant, async _ =>
            {
                MpcAuditVerification verification = await client.VerifyAuditLogAsync(_key.KeyId);
                if (verification.IsValid)
                {
                    // Only a page that still says the same entries verifies (the protobuf may spell them differently).
                    GetAuditResponse said = GetAuditResponse.Parser.ParseFrom(mutant.Bytes);
                    Assert.Equal(page.Entries.Take((int)Math.Min(said.HeadSequence, page.Entries.Count)), said.Entries.Take((int)Math.Min(said.HeadSequence, said.Entries.Count)));
                }
                else
                {
                    Assert.False(string.IsNullOrEmpty(verification.Error));
                }
            }, e => e is MpcSignerException { Message: var m } && !m.Contains('\n', StringComparison.Ordinal));
        }
        MpcAuditVerification after = await _client.VerifyAuditLogAsync(_key.KeyId);
        Assert.True(after.IsValid, after.Error);
        Assert.True(after.Count >= honest.Count);
    }
}
