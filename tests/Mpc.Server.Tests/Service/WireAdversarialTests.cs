using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Paillier;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Mpc.Server;
using Mpc.Transport.V1;
using Org.BouncyCastle.Math;

namespace Mpc.Server.Tests.Service;

/// <summary>Hostile input over the wire: each case asserts its exact status code, and the stored key survives.</summary>
[Collection("server")]
public sealed class WireAdversarialTests(ServerFixture server) : IAsyncLifetime
{
    private const string Owner = "wire-owner";
    private const string Intruder = "wire-intruder";
    private MpcSignerClient _client = null!;
    private MpcKey _key = null!;
    private RawSigner _raw = null!;

    // One key for the whole class (key generation takes a second or two); each test opens it afresh.
    private static readonly SemaphoreSlim OwnerKeyLock = new(1, 1);
    private static byte[]? s_ownerShare;

    public async Task InitializeAsync()
    {
        _client = server.Client(Owner);
        _raw = server.Raw(server.Token(Owner));
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
        _key = _client.OpenKey(ClientKeyShare.ImportSecret(s_ownerShare, BigNumBackends.Default));
    }

    public Task DisposeAsync()
    {
        _raw.Dispose();
        _key.Dispose();
        _client.Dispose();
        return Task.CompletedTask;
    }

    private Signer.SignerClient Grpc => _raw.Client;

    private Metadata Auth => _raw.Headers;

    private Task<StatusCode> Status<T>(Func<Task<T>> call) => RawSigner.StatusOf(call);

    private async Task AssertKeyStillSigns()
    {
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        MpcSignature signature = await _client.SignDigestAsync(_key, digest);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, _key.SubjectPublicKeyInfo, digest, signature));
        Assert.False((await _client.GetKeyAsync(_key.KeyId)).Frozen);
    }

    private async Task<SignCommitment> BeginSign() =>
        SignCommitment.Decode((await Grpc.BeginSignAsync(new BeginSignRequest { KeyId = _key.KeyId }, Auth)).Commitment.Span);

    /// <summary>Runs a signature up to the client's c3, returning the session to finish by hand.</summary>
    private async Task<(SignCommitment Commitment, SignClientSession Session, SignCiphertext Ciphertext)> UpToCiphertext()
    {
        SignCommitment commitment = await BeginSign();
        var session = new SignClientSession(_key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignNonce nonce = session.HandleCommitment(commitment);
        SignNonceResponse opened = await Grpc.SignNonceAsync(new SignNonceRequest { KeyId = _key.KeyId, Nonce = ByteString.CopyFrom(nonce.Encode()) }, Auth);
        return (commitment, session, session.HandleOpening(SignOpening.Decode(opened.Opening.Span, CurveKind.P256)));
    }

    private SignFinishRequest Finish(SignCommitment commitment, byte[] ciphertext) => new()
    {
        KeyId = _key.KeyId,
        SessionId = ByteString.CopyFrom(commitment.ServerSessionId),
        Ciphertext = ByteString.CopyFrom(ciphertext),
    };

    // ---- authentication ----

    [Fact]
    public async Task Missing_token_is_unauthenticated()
    {
        using RawSigner anonymous = server.Raw(null);
        Assert.Equal(StatusCode.Unauthenticated, await Status(async () => await anonymous.Client.ListKeysAsync(new ListKeysRequest())));
    }

    [Fact]
    public async Task Expired_token_is_unauthenticated()
    {
        using RawSigner expired = server.Raw(server.Token(Owner, TimeSpan.FromMinutes(-5)));
        Assert.Equal(StatusCode.Unauthenticated, await Status(async () => await expired.Client.ListKeysAsync(new ListKeysRequest(), expired.Headers)));
    }

    [Fact]
    public async Task Token_signed_by_another_key_is_unauthenticated()
    {
        using var other = new TempDirectory("mpc-forger-");
        using DevelopmentTokens forger = DevelopmentTokens.Open(other.Path, create: true);
        using RawSigner forged = server.Raw(forger.Mint(Owner, TimeSpan.FromHours(1)));
        Assert.Equal(StatusCode.Unauthenticated, await Status(async () => await forged.Client.ListKeysAsync(new ListKeysRequest(), forged.Headers)));
    }

    [Fact]
    public async Task Token_for_another_audience_is_unauthenticated()
    {
        using DevelopmentTokens tokens = DevelopmentTokens.Open(server.DataDirectory, create: false);
        using RawSigner wrong = server.Raw(tokens.Mint(Owner, TimeSpan.FromHours(1), audience: "someone-else"));
        Assert.Equal(StatusCode.Unauthenticated, await Status(async () => await wrong.Client.ListKeysAsync(new ListKeysRequest(), wrong.Headers)));
    }

    [Fact]
    public async Task Garbage_token_is_unauthenticated()
    {
        using RawSigner garbage = server.Raw("not-a-jwt");
        Assert.Equal(StatusCode.Unauthenticated, await Status(async () => await garbage.Client.ListKeysAsync(new ListKeysRequest(), garbage.Headers)));
    }

    // ---- ownership and unknown things ----

    [Fact]
    public async Task Someone_elses_key_is_permission_denied_for_every_call()
    {
        using RawSigner intruder = server.Raw(server.Token(Intruder));
        Assert.Equal(StatusCode.PermissionDenied, await Status(async () => await intruder.Client.GetKeyAsync(new GetKeyRequest { KeyId = _key.KeyId }, intruder.Headers)));
        Assert.Equal(StatusCode.PermissionDenied, await Status(async () => await intruder.Client.BeginSignAsync(new BeginSignRequest { KeyId = _key.KeyId }, intruder.Headers)));
        Assert.Equal(StatusCode.PermissionDenied, await Status(async () => await intruder.Client.SignNonceAsync(new SignNonceRequest { KeyId = _key.KeyId }, intruder.Headers)));
        Assert.Equal(StatusCode.PermissionDenied, await Status(async () => await intruder.Client.SignFinishAsync(new SignFinishRequest { KeyId = _key.KeyId }, intruder.Headers)));
        Assert.Empty((await intruder.Client.ListKeysAsync(new ListKeysRequest(), intruder.Headers)).Keys);
        await AssertKeyStillSigns();
    }

    [Fact]
    public async Task Unknown_key_is_not_found() =>
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.BeginSignAsync(new BeginSignRequest { KeyId = "0123456789abcdef0123456789abcdef" }, Auth)));

    [Theory]
    [InlineData("")]
    [InlineData("../../etc/passwd")]
    [InlineData("key with spaces")]
    public async Task Malformed_key_id_is_invalid_argument(string keyId) =>
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.GetKeyAsync(new GetKeyRequest { KeyId = keyId }, Auth)));

    // ---- key generation ----

    [Fact]
    public async Task Empty_key_generation_request_is_invalid_argument() =>
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.BeginKeyGenAsync(new BeginKeyGenRequest(), Auth)));

    [Fact]
    public async Task Unsupported_curve_is_invalid_argument()
    {
        byte[] request = new WireWriter().WriteUInt32(42).WriteBytes(new byte[32]).ToArray();
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.BeginKeyGenAsync(new BeginKeyGenRequest { Request = ByteString.CopyFrom(request) }, Auth)));
    }

    [Fact]
    public async Task Garbage_client_share_is_invalid_argument_and_the_session_is_gone()
    {
        byte[] request = new KeyGenRequest(CurveKind.P256, RandomNumberGenerator.GetBytes(32)).Encode();
        BeginKeyGenResponse begin = await Grpc.BeginKeyGenAsync(new BeginKeyGenRequest { Request = ByteString.CopyFrom(request) }, Auth);
        CompleteKeyGenRequest garbage = new() { KeyId = begin.KeyId, ClientShare = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(500)) };
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.CompleteKeyGenAsync(garbage, Auth)));
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.CompleteKeyGenAsync(garbage, Auth)));
    }

    [Fact]
    public async Task Completing_an_unknown_key_generation_is_not_found() =>
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.CompleteKeyGenAsync(
            new CompleteKeyGenRequest { KeyId = "ffffffffffffffffffffffffffffffff", ClientShare = ByteString.CopyFrom(new byte[10]) }, Auth)));

    [Fact]
    public async Task Oversized_message_is_resource_exhausted()
    {
        var huge = new BeginKeyGenRequest { Request = ByteString.CopyFrom(new byte[MpcServerHost.MaxReceiveMessageBytes + 1]) };
        Assert.Equal(StatusCode.ResourceExhausted, await Status(async () => await Grpc.BeginKeyGenAsync(huge, Auth)));
    }

    // ---- certificate chains ----

    [Fact]
    public async Task Certificate_chain_with_an_oversized_pss_signature_is_invalid_argument_and_the_stored_chain_stays()
    {
        // A leaf whose RSASSA-PSS signature value exceeds the issuer's modulus: a malformed chain, so InvalidArgument
        // (the .proto's promise), where the verifier's exception used to surface as Internal.
        using RSA issuerKey = RSA.Create(2048);
        X509SignatureGenerator pss = X509SignatureGenerator.CreateForRSA(issuerKey, RSASignaturePadding.Pss);
        byte[] issuer = CraftedCertificates.SelfIssued("CN=Wire Issuer", new PublicKey(issuerKey), pss);
        byte[] leaf = CraftedCertificates.Issue("CN=Wire Leaf", PublicKey.CreateFromSubjectPublicKeyInfo(_key.SubjectPublicKeyInfo, out _), "CN=Wire Issuer", pss);
        byte[] oversized = CraftedCertificates.WithSignatureValue(leaf, Enumerable.Repeat((byte)0xFF, 256).ToArray());
        KeyInfo before = await Grpc.GetKeyAsync(new GetKeyRequest { KeyId = _key.KeyId }, Auth);
        var request = new SetCertificateChainRequest { KeyId = _key.KeyId };
        request.CertificateChain.Add(ByteString.CopyFrom(oversized));
        request.CertificateChain.Add(ByteString.CopyFrom(issuer));

        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await Grpc.SetCertificateChainAsync(request, Auth));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.StartsWith("Certificate 1's signature cannot be checked with certificate 2's key", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before.CertificateChain, (await Grpc.GetKeyAsync(new GetKeyRequest { KeyId = _key.KeyId }, Auth)).CertificateChain);
        await AssertKeyStillSigns();
    }

    // ---- signing ----

    [Fact]
    public async Task Garbage_nonce_message_is_invalid_argument() =>
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.SignNonceAsync(
            new SignNonceRequest { KeyId = _key.KeyId, Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(90)) }, Auth)));

    [Fact]
    public async Task Nonce_for_an_unknown_session_is_not_found()
    {
        SignCommitment commitment = await BeginSign();
        var session = new SignClientSession(_key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignNonce nonce = session.HandleCommitment(commitment) with { ServerSessionId = RandomNumberGenerator.GetBytes(16) };
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.SignNonceAsync(
            new SignNonceRequest { KeyId = _key.KeyId, Nonce = ByteString.CopyFrom(nonce.Encode()) }, Auth)));
    }

    [Fact]
    public async Task Nonce_with_an_off_curve_R2_is_invalid_argument()
    {
        SignCommitment commitment = await BeginSign();
        var session = new SignClientSession(_key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignNonce nonce = session.HandleCommitment(commitment);
        byte[] offCurve = (byte[])nonce.R2.Clone();
        offCurve[0] = 0x05;
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.SignNonceAsync(
            new SignNonceRequest { KeyId = _key.KeyId, Nonce = ByteString.CopyFrom((nonce with { R2 = offCurve }).Encode()) }, Auth)));
        await AssertKeyStillSigns();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(65)]
    [InlineData(4096)]
    public async Task Nonce_with_a_digest_of_another_length_is_invalid_argument_with_the_one_digest_message(int length)
    {
        // Empty, wrong for every curve, over-long: one refusal, worded once (Digest.Parse), and the key still signs.
        SignCommitment commitment = await BeginSign();
        var session = new SignClientSession(_key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        byte[] encoded = SignNonceWire.WithDigest(session.HandleCommitment(commitment), new byte[length]);
        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await Grpc.SignNonceAsync(
            new SignNonceRequest { KeyId = _key.KeyId, Nonce = ByteString.CopyFrom(encoded) }, Auth));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal($"{Digest.LengthRule} (was {length}).", refused.Status.Detail);
        await AssertKeyStillSigns();
    }

    [Fact]
    public async Task Nonce_encoded_for_another_curve_is_invalid_argument()
    {
        // A P-384 point where a P-256 key expects a P-256 one: the length alone is refused at decoding.
        SignCommitment commitment = await BeginSign();
        var session = new SignClientSession(_key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignNonce nonce = session.HandleCommitment(commitment) with { R2 = EcCurve.Get(CurveKind.P384).EncodePoint(EcCurve.Get(CurveKind.P384).G) };
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.SignNonceAsync(
            new SignNonceRequest { KeyId = _key.KeyId, Nonce = ByteString.CopyFrom(nonce.Encode()) }, Auth)));
    }

    [Fact]
    public async Task Replayed_nonce_round_never_reopens_the_commitment()
    {
        SignCommitment commitment = await BeginSign();
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        var session = new SignClientSession(_key.Share, Digest.Parse(digest));
        var request = new SignNonceRequest { KeyId = _key.KeyId, Nonce = ByteString.CopyFrom(session.HandleCommitment(commitment).Encode()) };
        SignNonceResponse opened = await Grpc.SignNonceAsync(request, Auth);
        // An opened session is not found by a second nonce round (docs/protocol.md, "Signing sessions on the server")...
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.SignNonceAsync(request, Auth)));
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.SignNonceAsync(request, Auth)));
        // ...and the replays did not disturb it: the first opener finishes.
        SignCiphertext ciphertext = session.HandleOpening(SignOpening.Decode(opened.Opening.Span, CurveKind.P256));
        SignFinishResponse finished = await Grpc.SignFinishAsync(Finish(commitment, ciphertext.Encode()), Auth);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, _key.SubjectPublicKeyInfo, digest, session.HandleResult(SignResult.Decode(finished.Result.Span, CurveKind.P256))));
    }

    [Fact]
    public async Task Finish_for_an_unknown_session_is_not_found()
    {
        (SignCommitment commitment, _, SignCiphertext ciphertext) = await UpToCiphertext();
        SignFinishRequest request = Finish(commitment, ciphertext.Encode());
        request.SessionId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16));
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.SignFinishAsync(request, Auth)));
    }

    [Fact]
    public async Task Finish_before_the_nonce_round_is_not_found()
    {
        // Only an opened session finishes; one whose nonce round never ran is unknown to SignFinish, and not burnt.
        (_, _, SignCiphertext other) = await UpToCiphertext();
        SignCommitment commitment = await BeginSign();
        byte[] ciphertext = other.Encode();
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.SignFinishAsync(Finish(commitment, ciphertext), Auth)));
    }

    [Fact]
    public async Task Garbage_ciphertext_is_invalid_argument_and_spends_the_session()
    {
        (SignCommitment commitment, _, SignCiphertext ciphertext) = await UpToCiphertext();
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.SignFinishAsync(Finish(commitment, [1, 2, 3]), Auth)));
        // A refused round burns the session (docs/service.md): the honest c3 that follows finds none, so k1 never meets it.
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.SignFinishAsync(Finish(commitment, ciphertext.Encode()), Auth)));
        await AssertKeyStillSigns();
    }

    [Fact]
    public async Task Ciphertext_outside_the_group_is_invalid_argument_and_does_not_freeze()
    {
        // The group check is part of the proof's verification (SignCiphertextChecks): refused as a failed proof, with
        // its reason and wording (docs/service.md, "Status codes").
        foreach (BigInteger outside in new[] { BigInteger.Zero, _key.Share.Paillier.N.Multiply(_key.Share.Paillier.N) })
        {
            (SignCommitment commitment, _, SignCiphertext ciphertext) = await UpToCiphertext();
            byte[] encoded = (ciphertext with { C3 = outside }).Encode();
            RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await Grpc.SignFinishAsync(Finish(commitment, encoded), Auth));
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Equal("PROOF_FAILED", refused.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason);
            Assert.StartsWith("The signing ciphertext's proof was refused (ProofFailed: ", refused.Status.Detail, StringComparison.Ordinal);
            Assert.Contains("c3 is not in Z*_{N²}", refused.Status.Detail, StringComparison.Ordinal);
        }
        await AssertKeyStillSigns();
    }

    [Fact]
    public async Task Replayed_finish_is_not_found()
    {
        (SignCommitment commitment, SignClientSession session, SignCiphertext ciphertext) = await UpToCiphertext();
        SignFinishRequest request = Finish(commitment, ciphertext.Encode());
        SignFinishResponse response = await Grpc.SignFinishAsync(request, Auth);
        EcdsaSignature signature = session.HandleResult(SignResult.Decode(response.Result.Span, CurveKind.P256));
        Assert.NotNull(signature);
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.SignFinishAsync(request, Auth)));
    }

    [Fact]
    public async Task Hoarding_begin_sign_calls_keeps_four_unopened_commitments_and_never_locks_the_key()
    {
        using MpcSignerClient client = server.Client("hoarder");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.Secp256k1);
        using RawSigner hoarder = server.Raw(server.Token("hoarder"));
        var sessions = new HashSet<string>();
        for (int i = 0; i < 100; i++)
        {
            BeginSignResponse begin = await hoarder.Client.BeginSignAsync(new BeginSignRequest { KeyId = key.KeyId }, hoarder.Headers);
            sessions.Add(Convert.ToHexString(SignCommitment.Decode(begin.Commitment.Span).ServerSessionId));
        }
        Assert.Equal(4, sessions.Count);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.Secp256k1, key.SubjectPublicKeyInfo, digest, await client.SignDigestAsync(key, digest)));
    }

    [Fact]
    public async Task Abort_attack_ciphertext_is_refused_before_decryption_and_the_key_still_signs()
    {
        const string user = "victim";
        using MpcSignerClient client = server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using RawSigner raw = server.Raw(server.Token(user));

        (StatusCode status, string detail) = await AbortAttack.SendForDetailAsync(raw, key);

        // InvalidArgument naming the proof (ProofFailed): nothing was decrypted, so nothing leaked and nothing froze.
        Assert.Equal(StatusCode.InvalidArgument, status);
        Assert.Contains("ProofFailed", detail, StringComparison.Ordinal);
        Assert.Contains("Πaff-g", detail, StringComparison.Ordinal);
        Assert.Contains("not frozen", detail, StringComparison.Ordinal);
        Assert.False((await client.GetKeyAsync(key.KeyId)).Frozen);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, await client.SignDigestAsync(key, digest)));
    }

    [Fact]
    public async Task A_refused_proof_spends_the_signing_session()
    {
        (SignCommitment commitment, _, SignCiphertext ciphertext) = await UpToCiphertext();
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        BigInteger shifted = _key.Share.Paillier.Add(ciphertext.C3, _key.Share.Paillier.Multiply(_key.Share.EncryptedServerShare, curve.Order));
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.SignFinishAsync(Finish(commitment, (ciphertext with { C3 = shifted }).Encode()), Auth)));
        // The honest c3 of the same session finds no session: k1 was discarded with the refusal, never reused.
        Assert.Equal(StatusCode.NotFound, await Status(async () => await Grpc.SignFinishAsync(Finish(commitment, ciphertext.Encode()), Auth)));
        await AssertKeyStillSigns();
    }

    [Fact]
    public async Task Ciphertext_without_its_proof_is_invalid_argument()
    {
        // The previous release's SignFinish payload: c3 alone.
        (SignCommitment commitment, _, SignCiphertext ciphertext) = await UpToCiphertext();
        byte[] bare = new WireWriter().WriteBigInteger(ciphertext.C3).ToArray();
        Assert.Equal(StatusCode.InvalidArgument, await Status(async () => await Grpc.SignFinishAsync(Finish(commitment, bare), Auth)));
        await AssertKeyStillSigns();
    }
}
