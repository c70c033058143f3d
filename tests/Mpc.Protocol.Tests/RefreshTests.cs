using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Mpc.Protocol.Signing;
using Org.BouncyCastle.Math;

namespace Mpc.Protocol.Tests;

/// <summary>Share refresh and key import: same public key, new shares that sign, old shares that no longer fit.</summary>
[Collection("engine")]
public sealed class RefreshTests(EngineFixture engine)
{
    private static MpcErrorCode Refusal(Action action) => Assert.Throws<MpcProtocolException>(action).Code;

    private (RefreshServerSession Server, RefreshClientSession Client) Sessions(TwoPartyKey key, RefreshPurpose purpose = RefreshPurpose.Refresh, string device = ClientKeyShare.PrimaryDevice) =>
        (RefreshServerSession.FromShare(key.Server, device, purpose, engine.Backend),
         RefreshClientSession.FromShare(key.Client, purpose, engine.Auxiliary, engine.Backend));

    /// <summary>All five messages, each through its wire encoding.</summary>
    private static TwoPartyKey Run(RefreshServerSession server, RefreshClientSession client, CurveKind curve)
    {
        RefreshCommitment commitment = RefreshCommitment.Decode(server.HandleRequest(RefreshRequest.Decode(client.Start().Encode())).Encode());
        RefreshContribution contribution = RefreshContribution.Decode(client.HandleCommitment(commitment).Encode(), curve);
        RefreshServerShare serverShare = RefreshServerShare.Decode(server.HandleContribution(contribution).Encode(), curve);
        RefreshClientOutput output = client.HandleServerShare(serverShare);
        ServerKeyShare newServer = server.HandleConfirmation(RefreshConfirmation.Decode(output.Confirmation.Encode(), curve));
        return new TwoPartyKey(newServer, output.Share);
    }

    private static void AssertSigns(TwoPartyKey key)
    {
        byte[] digest = TwoParty.DigestFor(key.Server.Curve, RandomNumberGenerator.GetBytes(100));
        EcdsaSignature signature = TwoParty.Sign(key, digest);
        Assert.True(IndependentVerifiers.BouncyCastle(key.Server.Curve, key.Server.PublicKey, digest, signature));
    }

    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P384)]
    public void Refresh_keeps_the_public_key_and_the_new_pair_signs(CurveKind curve)
    {
        TwoPartyKey old = TwoParty.KeyGen(curve, engine.Auxiliary, engine.Backend);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(old);
        TwoPartyKey refreshed = Run(server, client, curve);

        Assert.Equal(old.Server.PublicKey, refreshed.Server.PublicKey);
        Assert.Equal(old.Client.PublicKey, refreshed.Client.PublicKey);
        Assert.NotEqual(old.Server.X1, refreshed.Server.X1);
        Assert.NotEqual(old.Client.X2, refreshed.Client.X2);
        Assert.NotEqual(old.Server.Paillier.PublicKey.N, refreshed.Server.Paillier.PublicKey.N);
        Assert.Equal(refreshed.Server.ShareId, refreshed.Client.ShareId);
        Assert.NotEqual(old.Client.ShareId, refreshed.Client.ShareId);
        AssertSigns(refreshed);
    }

    [Fact]
    public void An_old_client_share_does_not_fit_the_refreshed_server_share()
    {
        TwoPartyKey old = TwoParty.KeyGen(CurveKind.P256, engine.Auxiliary, engine.Backend);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(old);
        TwoPartyKey refreshed = Run(server, client, CurveKind.P256);

        // The stale share proves its c3 against the old N, c_key, (s, t) and share id: the server refuses the proof
        // before decrypting anything, so a stale device can no longer trip the freeze (the service also refuses a
        // replaced share id before any signing round).
        var session = new SignServerSession(refreshed.Server);
        var stale = new SignClientSession(old.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignCiphertext ciphertext = stale.HandleOpening(session.HandleNonce(stale.HandleCommitment(session.Commitment)));
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => session.HandleCiphertext(ciphertext)));
        Assert.NotEqual(old.Client.ShareId, refreshed.Server.ShareId);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    public void A_share_from_before_signing_proofs_cannot_sign_until_it_is_refreshed(uint version)
    {
        TwoPartyKey current = TwoParty.KeyGen(CurveKind.P256, engine.Auxiliary, engine.Backend);
        var legacy = new TwoPartyKey(current.Server, ClientKeyShare.ImportSecret(LegacyExport(current.Client, version), engine.Backend));
        Assert.False(legacy.Client.CanSign);
        Assert.Null(legacy.Client.ServerRingPedersen);

        // Refused on the client, before any message exists.
        MpcProtocolException refused = Assert.Throws<MpcProtocolException>(() => new SignClientSession(legacy.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32))));
        Assert.Equal(MpcErrorCode.InvalidRingPedersenParameters, refused.Code);
        Assert.Contains("mpc refresh", refused.Message, StringComparison.Ordinal);
        // Written back as version 2, never as a version 3 without parameters.
        Assert.Equal(2u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(legacy.Client.ExportSecret().AsSpan(4)));

        (RefreshServerSession server, RefreshClientSession client) = Sessions(legacy);
        TwoPartyKey refreshed = Run(server, client, CurveKind.P256);
        Assert.True(refreshed.Client.CanSign);
        Assert.Equal(refreshed.Server.RingPedersen.Parameters, refreshed.Client.ServerRingPedersen);
        AssertSigns(refreshed);
        ClientKeyShare reloaded = ClientKeyShare.ImportSecret(refreshed.Client.ExportSecret(), engine.Backend);
        Assert.Equal(3u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(refreshed.Client.ExportSecret().AsSpan(4)));
        AssertSigns(new TwoPartyKey(refreshed.Server, reloaded));
    }

    [Fact]
    public void A_version_3_share_with_s_and_t_cut_off_is_malformed()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        byte[] exported = key.Client.ExportSecret();
        byte[] withoutT = exported[..^(4 + key.Client.ServerRingPedersen!.T.ToByteArray().Length)];
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => ClientKeyShare.ImportSecret(withoutT, engine.Backend)));
    }

    /// <summary>The export of the releases before signing proofs: version 2 (device id, no s and t) or 1 (neither).</summary>
    private static byte[] LegacyExport(ClientKeyShare share, uint version)
    {
        byte[] exported = share.ExportSecret();
        int ringPedersen = 4 + share.ServerRingPedersen!.S.ToByteArray().Length + 4 + share.ServerRingPedersen.T.ToByteArray().Length;
        int device = version == 1 ? 4 + System.Text.Encoding.UTF8.GetByteCount(share.DeviceId) : 0;
        byte[] legacy = exported[..^(ringPedersen + device)];
        // The version is the first field: a 4-byte length, then the big-endian value.
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(legacy.AsSpan(4), version);
        return legacy;
    }

    [Fact]
    public void Enrolment_gives_a_second_independent_pair_and_both_sign()
    {
        TwoPartyKey first = TwoParty.KeyGen(CurveKind.P256, engine.Auxiliary, engine.Backend);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(first, RefreshPurpose.Enrol, "laptop-1");
        TwoPartyKey second = Run(server, client, CurveKind.P256);
        Assert.Equal("laptop-1", second.Client.DeviceId);
        AssertSigns(first);
        AssertSigns(second);
    }

    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.Secp256k1)]
    public void An_imported_key_keeps_its_public_key_and_the_seed_is_not_the_final_share(CurveKind curve)
    {
        EcCurve c = EcCurve.Get(curve);
        BigInteger d = c.RandomScalar();
        var client = RefreshClientSession.ForImport(curve, d, engine.Auxiliary, engine.Backend, out byte[] seed, out byte[] publicKey);
        var server = RefreshServerSession.FromImportedSeed(KeyIds.New(), curve, seed, publicKey, engine.Backend);
        TwoPartyKey imported = Run(server, client, curve);

        Assert.Equal(c.MultiplyBase(d), imported.Server.PublicKey);
        Assert.NotEqual(c.DecodeScalar(seed, "seed"), imported.Server.X1);
        Assert.Equal(d, imported.Server.X1.Multiply(imported.Client.X2).Mod(c.Order));
        AssertSigns(imported);
    }

    [Fact]
    public void A_server_changing_r1_after_seeing_r2_is_caught()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        RefreshContribution contribution = client.HandleCommitment(server.HandleRequest(client.Start()));
        RefreshServerShare share = server.HandleContribution(contribution);
        byte[] other = EcCurve.Get(CurveKind.P256).EncodeScalar(BigInteger.One);
        Assert.Equal(MpcErrorCode.CommitmentMismatch, Refusal(() => client.HandleServerShare(share with { Factor = other })));
        // The failed session stays failed.
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => client.HandleServerShare(share)));
    }

    [Fact]
    public void The_server_share_still_opens_its_commitment_after_the_server_session_is_disposed()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        RefreshServerShare share = server.HandleContribution(client.HandleCommitment(server.HandleRequest(client.Start())));
        // A session dropped after round 4 (its refresh expired, or the grain gave up) zeroes only what it still owns.
        server.Dispose();

        RefreshClientOutput output = client.HandleServerShare(RefreshServerShare.Decode(share.Encode(), CurveKind.P256));
        Assert.Equal(key.Client.PublicKey, output.Share.PublicKey);
    }

    [Fact]
    public void A_new_server_share_that_does_not_complete_the_public_key_is_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        RefreshServerShare share = server.HandleContribution(client.HandleCommitment(server.HandleRequest(client.Start())));
        // Q1 replaced by another point: c_key' no longer proves to encrypt its discrete log.
        byte[] q1 = EcCurve.Get(CurveKind.P256).EncodePoint(EcCurve.Get(CurveKind.P256).G);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => client.HandleServerShare(share with { Q1 = q1 })));
    }

    [Fact]
    public void A_factor_of_zero_is_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        RefreshContribution contribution = client.HandleCommitment(server.HandleRequest(client.Start()));
        Assert.Equal(MpcErrorCode.ScalarOutOfRange, Refusal(() => server.HandleContribution(contribution with { Factor = new byte[32] })));
    }

    [Fact]
    public void A_confirmation_with_another_share_is_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        RefreshClientOutput output = client.HandleServerShare(server.HandleContribution(client.HandleCommitment(server.HandleRequest(client.Start()))));
        // The old Q2 with a valid proof of the old x2 (a client that did not take the new share).
        EcCurve c = EcCurve.Get(CurveKind.P256);
        var oldQ2 = c.MultiplyBase(key.Client.X2);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleConfirmation(output.Confirmation with { Q2 = c.EncodePoint(oldQ2) })));
    }

    [Fact]
    public void A_confirmation_proving_the_old_share_in_this_session_is_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        RefreshContribution contribution = client.HandleCommitment(server.HandleRequest(client.Start()));
        server.HandleContribution(contribution);
        // A client proving the right statement shape for the wrong share: proof valid in some context, product wrong.
        EcCurve c = EcCurve.Get(CurveKind.P256);
        BigInteger x = c.RandomScalar();
        var q2 = c.MultiplyBase(x);
        var proof = Crypto.Proofs.DlogProof.Prove(c, x, q2, new Crypto.Hashing.ProofContext(new byte[32], Crypto.Hashing.PartyRole.Client, key.Server.KeyId, CurveKind.P256), ProofPurposes.RefreshShare);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleConfirmation(new RefreshConfirmation(c.EncodePoint(q2), proof))));
    }

    [Fact]
    public void A_refresh_that_names_another_device_is_refused_by_the_client()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        var server = RefreshServerSession.FromShare(key.Server, "device-other", RefreshPurpose.Refresh, engine.Backend);
        var client = RefreshClientSession.FromShare(key.Client, RefreshPurpose.Refresh, engine.Auxiliary, engine.Backend);
        RefreshCommitment commitment = server.HandleRequest(client.Start());
        Assert.Equal(MpcErrorCode.SessionMismatch, Refusal(() => client.HandleCommitment(commitment)));
    }

    [Fact]
    public void Identity_and_off_curve_points_in_refresh_messages_are_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        RefreshServerShare share = server.HandleContribution(client.HandleCommitment(server.HandleRequest(client.Start())));
        Assert.Equal(MpcErrorCode.InvalidPoint, Refusal(() => client.HandleServerShare(share with { Q1 = new byte[33] })));

        (server, client) = Sessions(key);
        RefreshClientOutput output = client.HandleServerShare(server.HandleContribution(client.HandleCommitment(server.HandleRequest(client.Start()))));
        Assert.Equal(MpcErrorCode.InvalidPoint, Refusal(() => server.HandleConfirmation(output.Confirmation with { Q2 = Points.OffCurve(CurveKind.P256) })));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleConfirmation(output.Confirmation)));
    }

    [Fact]
    public void Purpose_and_curve_mismatches_are_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        RefreshRequest request = client.Start();
        Assert.Equal(MpcErrorCode.SessionMismatch, Refusal(() => server.HandleRequest(request with { Purpose = RefreshPurpose.Restore })));
        (server, _) = Sessions(key);
        Assert.Equal(MpcErrorCode.SessionMismatch, Refusal(() => server.HandleRequest(request with { Curve = CurveKind.Secp256k1 })));
    }

    [Fact]
    public void Rounds_out_of_order_or_replayed_are_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        RefreshRequest request = client.Start();
        RefreshCommitment commitment = server.HandleRequest(request);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleRequest(request)));
        (server, client) = Sessions(key);
        commitment = server.HandleRequest(client.Start());
        RefreshContribution contribution = client.HandleCommitment(commitment);
        server.HandleContribution(contribution);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleContribution(contribution)));
    }

    [Fact]
    public void A_server_with_a_small_factor_modulus_is_refused()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key);
        // BitForge: N = p·q with a 128-bit p; both primes Blum, so only the no-small-factor proof can catch it.
        server.PaillierFactory = (backend, bits) =>
        {
            while (true)
            {
                BigInteger p = backend.GeneratePrime(128, blum: true);
                BigInteger q = backend.GeneratePrime(bits - 128, blum: true);
                if (p.Multiply(q).BitLength == bits)
                {
                    return PaillierPrivateKey.FromPrimesUnchecked(p, q, backend);
                }
            }
        };
        RefreshServerShare share = server.HandleContribution(client.HandleCommitment(server.HandleRequest(client.Start())));
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => client.HandleServerShare(share)));
    }

    [Fact]
    public void Malformed_refresh_messages_are_refused()
    {
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => RefreshRequest.Decode(new byte[] { 0, 0, 0, 9, 0, 0, 0, 2 })));
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => RefreshCommitment.Decode(new byte[3])));
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => RefreshContribution.Decode(new byte[40], CurveKind.P256)));
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => RefreshServerShare.Decode(new byte[10], CurveKind.P256)));
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => RefreshConfirmation.Decode(new byte[36], CurveKind.P256)));
    }
}
