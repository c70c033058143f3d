using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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

    // Likewise for imports, four of which may wait per user: each mutated BeginImport is a user of its own, so no mutant
    // is refused for the room taken by the ones accepted before it (the room is checked before the request is read).
    private const string ImportUser = "grpc-fuzz-import";

    // One key for the class (key generation takes a second or two); each test opens it afresh.
    private static readonly SemaphoreSlim OwnerKeyLock = new(1, 1);
    private static byte[]? s_ownerShare;

    // The signing-reply tests' key: they leave sessions open, which the other tests' signatures must not wait for.
    private const string RepliesUser = "grpc-fuzz-replies";
    private static readonly SemaphoreSlim RepliesKeyLock = new(1, 1);
    private static byte[]? s_repliesShare;

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
    private Task AssertKeyUnchanged() => StoredKeyAssert.SignsAsBefore(_client, _key);

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
            ("BeginRefresh", FirstMessageOf(Transport.V1.RefreshPurpose.Refresh, Protocol.Messages.RefreshPurpose.Refresh, label: "")),
            ("ConfirmKeyGen", new ConfirmKeyGenRequest { KeyId = _key.KeyId }.ToByteArray()),
            ("ListKeys", new ListKeysRequest().ToByteArray()),
            // The first messages of an enrolment, a backup and an import (a restore starts as a refresh of the backup's
            // pair). Four enrolments and backups may wait per key, and the room is checked before the request is read:
            // the mutants after the fourth accepted one are refused for room (ResourceExhausted; about a fifth of these 80).
            ("BeginRefresh", FirstMessageOf(Transport.V1.RefreshPurpose.Enrol, Protocol.Messages.RefreshPurpose.Enrol, "fuzzed phone")),
            ("BeginRefresh", FirstMessageOf(Transport.V1.RefreshPurpose.Backup, Protocol.Messages.RefreshPurpose.Backup, "fuzzed backup")),
            ("BeginImport", ImportFirstMessage()),
        };
        var keyGenHeaders = new Metadata { { "authorization", "Bearer " + server.Token(KeyGenUser) } };
        var mutations = new Mutations("gRPC request bodies");
        foreach ((string method, Mutant mutant) in mutations.Of(originals, Mutations.Iterations(40) * originals.Count))
        {
            Metadata headers = method switch
            {
                "BeginKeyGen" => keyGenHeaders,
                "BeginImport" => new Metadata { { "authorization", "Bearer " + server.Token($"{ImportUser}-{mutant.Index}") } },
                _ => _raw.Headers,
            };
            AssertClientError(mutations, method, mutant, await SendRaw(method, mutant.Bytes, headers));
        }
        await AssertKeyUnchanged();
    }

    /// <summary>A well-formed BeginRefresh of the owner's pair for <paramref name="purpose"/>, as the SDK sends it (a refresh has no label).</summary>
    private byte[] FirstMessageOf(Transport.V1.RefreshPurpose purpose, Protocol.Messages.RefreshPurpose protocolPurpose, string label) =>
        new BeginRefreshRequest
        {
            KeyId = _key.KeyId,
            DeviceId = _key.Share.DeviceId,
            ShareId = ByteString.CopyFrom(_key.Share.ShareId),
            Purpose = purpose,
            Label = label,
            Request = ByteString.CopyFrom(new RefreshRequest(protocolPurpose, CurveKind.P256, RandomNumberGenerator.GetBytes(32)).Encode()),
        }.ToByteArray();

    /// <summary>A well-formed BeginImport of a fresh private key (its seed share and public key as the SDK makes them), with a certificate.</summary>
    private byte[] ImportFirstMessage()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 certificate = new CertificateRequest("CN=fuzzed import", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        byte[] scalar = key.ExportParameters(includePrivateParameters: true).D!;
        try
        {
            using var session = Mpc.Protocol.Refresh.RefreshClientSession.ForImport(CurveKind.P256,
                new Org.BouncyCastle.Math.BigInteger(1, scalar), server.RingPedersen, Mpc.Crypto.BigNum.BigNumBackends.Default,
                out byte[] seed, out byte[] publicKey);
            return new BeginImportRequest
            {
                Curve = EcCurve.Get(CurveKind.P256).Name,
                PublicKey = ByteString.CopyFrom(publicKey),
                SeedShare = ByteString.CopyFrom(seed),
                CertificateChain = { ByteString.CopyFrom(certificate.RawData) },
                Label = "fuzzed import",
                Request = ByteString.CopyFrom(session.Start().Encode()),
            }.ToByteArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }
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

    /// <summary>Replies the SDK turns into its own records: refused as <see cref="MpcSignerException"/>, or read without failing.</summary>
    [Theory]
    [InlineData("/GetKey")]
    [InlineData("/ListKeys")]
    [InlineData("/ListDevices")]
    public async Task Mutated_key_and_device_replies_are_MpcSignerException_or_read(string method)
    {
        var wire = new ReplacedGrpcReplies(method);
        byte[]? original = null;
        wire.Reply = reply => original ??= reply;
        using var client = new MpcSignerClient(server.Address, server.Token(Owner),
            new MpcSignerClientOptions { DeviceProfileStore = server.DeviceProfiles, HttpHandler = wire });
        Func<Task> call = method switch
        {
            "/GetKey" => () => client.GetKeyAsync(_key.KeyId),
            "/ListKeys" => () => client.ListKeysAsync(),
            _ => () => client.ListDevicesAsync(_key.KeyId),
        };
        await call();
        Assert.NotNull(original);

        var mutations = new Mutations($"{method} replies");
        foreach (Mutant mutant in mutations.Of(original, Mutations.Iterations(150)))
        {
            wire.Reply = _ => mutant.Bytes;
            await mutations.CheckAsync(mutant, _ => call(), e => e is MpcSignerException { Message: var m } && !m.Contains('\n', StringComparison.Ordinal));
        }
    }

    /// <summary>A signature whose server replies are mutated: MpcSignerException, or a signature that verifies.</summary>
    [Theory]
    [InlineData("/BeginSign")]
    [InlineData("/SignNonce")]
    [InlineData("/SignFinish")]
    public async Task Mutated_signing_replies_are_MpcSignerException_or_a_signature_that_verifies(string method)
    {
        var wire = new ReplacedGrpcReplies(method);
        using var client = new MpcSignerClient(server.Address, server.Token(RepliesUser),
            new MpcSignerClientOptions { DeviceProfileStore = server.DeviceProfiles, HttpHandler = wire });
        await RepliesKeyLock.WaitAsync();
        try
        {
            s_repliesShare ??= await ExportedNewKey(RepliesUser);
        }
        finally
        {
            RepliesKeyLock.Release();
        }
        using MpcKey key = client.OpenKey(Mpc.Protocol.Keys.ClientKeyShare.ImportSecret(s_repliesShare, Mpc.Crypto.BigNum.BigNumBackends.Default));
        var mutations = new Mutations($"{method} replies to the SDK");
        // A refused reply leaves its session open on the server until it expires, and a key has at most 64 open: 20 for
        // each of the three methods stay below (more iterations only add ResourceExhausted refusals, which pass).
        for (int i = 0; i < Mutations.Iterations(20); i++)
        {
            Mutant? mutant = null;
            wire.Reply = reply => (mutant = mutations.Of(reply, 1).Single() with { Index = i }).Bytes;
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            try
            {
                MpcSignature signature = await client.SignDigestAsync(key, digest);
                Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, signature),
                    $"A mutated {method} reply gave a signature that does not verify. Repeat with {mutations.Reproduce}, mutant {mutant}.");
            }
            catch (MpcSignerException e) when (!e.Message.Contains('\n', StringComparison.Ordinal))
            {
                // Refused: what a mutated reply should get.
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw mutations.Failure(mutant ?? new Mutant(i, "none", []), e, method);
            }
        }
        // The sessions the refusals left open keep the key from signing until they expire (a few seconds): the stored
        // key itself is checked, not a new signature.
        MpcKeyInfo info = await client.GetKeyAsync(key.KeyId);
        Assert.False(info.Frozen);
        Assert.Equal(key.SubjectPublicKeyInfo, info.SubjectPublicKeyInfo);
    }

    private async Task<byte[]> ExportedNewKey(string user)
    {
        using MpcSignerClient owner = server.Client(user);
        using MpcKey created = await owner.CreateKeyAsync(CurveKind.P256);
        return created.Share.ExportSecret();
    }

    [Fact]
    public async Task Mutated_certificate_chains_get_a_client_error_and_the_stored_chain_stays()
    {
        using ECDsa issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        X509SignatureGenerator signer = X509SignatureGenerator.CreateForECDsa(issuerKey);
        byte[] issuer = CraftedCertificates.SelfIssued("CN=Fuzz Issuer", new PublicKey(issuerKey), signer);
        byte[] leaf = CraftedCertificates.Issue("CN=Fuzz Leaf", PublicKey.CreateFromSubjectPublicKeyInfo(_key.SubjectPublicKeyInfo, out _), "CN=Fuzz Issuer", signer);
        SetCertificateChainRequest Request(byte[] first, byte[] second) =>
            new() { KeyId = _key.KeyId, CertificateChain = { ByteString.CopyFrom(first), ByteString.CopyFrom(second) } };
        await _raw.Client.SetCertificateChainAsync(Request(leaf, issuer), _raw.Headers);
        Google.Protobuf.Collections.RepeatedField<ByteString> stored = (await _raw.Client.GetKeyAsync(new GetKeyRequest { KeyId = _key.KeyId }, _raw.Headers)).CertificateChain;
        Assert.Equal(2, stored.Count);

        var mutations = new Mutations("certificate chains");
        foreach ((string which, Mutant mutant) in mutations.Of([("leaf", leaf), ("issuer", issuer)], Mutations.Iterations(40) * 2))
        {
            SetCertificateChainRequest request = which == "leaf" ? Request(mutant.Bytes, issuer) : Request(leaf, mutant.Bytes);
            StatusCode status = await RawSigner.StatusOf(async () => await _raw.Client.SetCertificateChainAsync(request, _raw.Headers));
            AssertClientError(mutations, which, mutant, status);
            KeyInfo after = await _raw.Client.GetKeyAsync(new GetKeyRequest { KeyId = _key.KeyId }, _raw.Headers);
            // Refused: the stored chain is the one before. Accepted: it is exactly the chain sent.
            Assert.Equal(status == StatusCode.OK ? request.CertificateChain : stored, after.CertificateChain);
            stored = after.CertificateChain;
        }
        await AssertKeyUnchanged();
    }
}
