using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Messages;
using Org.BouncyCastle.Math;

namespace Mpc.Protocol.Tests;

/// <summary>Every refusal of key generation, each asserting the specific error code.</summary>
[Collection("engine")]
public sealed class KeyGenAdversarialTests(EngineFixture engine)
{
    private const CurveKind Curve = CurveKind.P256;

    /// <summary>One key generation stopped before the client reads the server's last message.</summary>
    private sealed class Run
    {
        public required KeyGenServerSession Server { get; init; }
        public required KeyGenClientSession Client { get; init; }
        public required KeyGenClientShare ClientShare { get; init; }
        public required KeyGenServerOutput Output { get; init; }
    }

    private Run Start(Func<IBigNumBackend, int, PaillierPrivateKey>? paillier = null)
    {
        var server = new KeyGenServerSession(KeyIds.New(), engine.Backend) { PaillierFactory = paillier ?? PaillierPrivateKey.Generate };
        var client = new KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend);
        KeyGenCommitment commitment = server.HandleRequest(client.Start());
        KeyGenClientShare share = client.HandleCommitment(commitment);
        return new Run { Server = server, Client = client, ClientShare = share, Output = server.HandleClientShare(share) };
    }

    private static MpcErrorCode Refusal(Action action) => Assert.Throws<MpcProtocolException>(action).Code;

    private static KeyGenServerShare WithSetup(KeyGenServerShare message, Func<Keys.EncryptedShareSetup, Keys.EncryptedShareSetup> tamper) =>
        message with { Setup = tamper(message.Setup) };

    private MpcErrorCode ClientRefuses(Func<KeyGenServerShare, KeyGenServerShare> tamper)
    {
        Run run = Start();
        return Refusal(() => run.Client.HandleServerShare(tamper(run.Output.Message)));
    }

    [Fact]
    public void Honest_run_is_accepted()
    {
        Run run = Start();
        Keys.ClientKeyShare key = run.Client.HandleServerShare(run.Output.Message);
        Assert.Equal(run.Output.Share.PublicKey, key.PublicKey);
    }

    [Fact]
    public void Q1_other_than_committed_is_refused() =>
        Assert.Equal(MpcErrorCode.CommitmentMismatch, ClientRefuses(m => m with { Q1 = EcCurve.Get(Curve).EncodePoint(EcCurve.Get(Curve).MultiplyBase(BigInteger.Two)) }));

    [Fact]
    public void Altered_commitment_salt_is_refused() =>
        Assert.Equal(MpcErrorCode.CommitmentMismatch, ClientRefuses(m => m with { CommitmentSalt = Flip(m.CommitmentSalt) }));

    [Fact]
    public void Paillier_modulus_below_2048_bits_is_refused()
    {
        BigInteger small = engine.Backend.GeneratePrime(512, blum: true).Multiply(engine.Backend.GeneratePrime(512, blum: true));
        Assert.Equal(MpcErrorCode.PaillierModulusTooSmall, ClientRefuses(m => m with { Setup = m.Setup with { PaillierModulus = small } }));
    }

    [Fact]
    public void Even_Paillier_modulus_is_refused() =>
        Assert.Equal(MpcErrorCode.InvalidPaillierModulus, ClientRefuses(m => m with { Setup = m.Setup with { PaillierModulus = m.Setup.PaillierModulus.Add(BigInteger.One) } }));

    [Fact]
    public void Paillier_modulus_swapped_for_another_valid_one_fails_the_modulus_proof()
    {
        using PaillierPrivateKey other = PaillierPrivateKey.Generate(engine.Backend);
        Assert.Equal(MpcErrorCode.ProofFailed, ClientRefuses(m => m with { Setup = m.Setup with { PaillierModulus = other.PublicKey.N } }));
    }

    [Fact]
    public void Paillier_modulus_with_a_small_factor_is_refused()
    {
        // BitForge: N = p·q with a 128-bit p. Both primes are Blum, so only the no-small-factor proof can catch it.
        PaillierPrivateKey Forge(IBigNumBackend backend, int bits)
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
        }
        Run run = Start(Forge);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => run.Client.HandleServerShare(run.Output.Message)));
    }

    [Fact]
    public void Encrypted_share_of_a_different_value_is_refused()
    {
        Run run = Start();
        var paillier = new PaillierPublicKey(run.Output.Message.Setup.PaillierModulus, engine.Backend);
        BigInteger forged = paillier.Encrypt(run.Output.Share.X1.Add(BigInteger.One));
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => run.Client.HandleServerShare(WithSetup(run.Output.Message, s => s with { EncryptedShare = forged }))));
    }

    [Fact]
    public void Encrypted_share_out_of_range_is_refused()
    {
        // x1 + q·2^800 has the same discrete log but is far outside the proven range.
        Run run = Start();
        var paillier = new PaillierPublicKey(run.Output.Message.Setup.PaillierModulus, engine.Backend);
        BigInteger big = run.Output.Share.X1.Add(EcCurve.Get(Curve).Order.ShiftLeft(800));
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => run.Client.HandleServerShare(WithSetup(run.Output.Message, s => s with { EncryptedShare = paillier.Encrypt(big) }))));
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("N squared")]
    [InlineData("N")]
    public void Encrypted_share_outside_Z_N2_star_is_refused(string which) =>
        Assert.Equal(MpcErrorCode.InvalidCiphertext, ClientRefuses(m => WithSetup(m, s => s with
        {
            EncryptedShare = which switch
            {
                "zero" => BigInteger.Zero,
                "N squared" => s.PaillierModulus.Multiply(s.PaillierModulus),
                _ => s.PaillierModulus,
            },
        })));

    [Fact]
    public void Modulus_proof_from_another_session_is_refused()
    {
        // A server re-using one Paillier key in two sessions cannot re-use the first session's proofs.
        PaillierPrivateKey shared = PaillierPrivateKey.Generate(engine.Backend);
        Run first = Start((_, _) => shared);
        Run second = Start((_, _) => shared);
        Assert.Equal(MpcErrorCode.ProofFailed,
            Refusal(() => second.Client.HandleServerShare(WithSetup(second.Output.Message, s => s with { ModulusProof = first.Output.Message.Setup.ModulusProof }))));
    }

    [Fact]
    public void No_small_factor_proof_from_another_session_is_refused()
    {
        PaillierPrivateKey shared = PaillierPrivateKey.Generate(engine.Backend);
        Run first = Start((_, _) => shared);
        Run second = Start((_, _) => shared);
        Assert.Equal(MpcErrorCode.ProofFailed,
            Refusal(() => second.Client.HandleServerShare(WithSetup(second.Output.Message, s => s with { NoSmallFactorProof = first.Output.Message.Setup.NoSmallFactorProof }))));
    }

    [Fact]
    public void Encrypted_share_proof_from_another_session_is_refused()
    {
        Run first = Start();
        Run second = Start();
        Assert.Equal(MpcErrorCode.ProofFailed,
            Refusal(() => second.Client.HandleServerShare(WithSetup(second.Output.Message, s => s with { EncryptedShareProof = first.Output.Message.Setup.EncryptedShareProof }))));
    }

    // ---- the server's ring-Pedersen parameters (against which the client proves every c3) ----

    [Fact]
    public void The_accepted_share_keeps_the_servers_ring_pedersen_parameters_over_N()
    {
        Run run = Start();
        Keys.ClientKeyShare key = run.Client.HandleServerShare(run.Output.Message);
        Assert.True(key.CanSign);
        Assert.Equal(run.Output.Message.Setup.PaillierModulus, key.ServerRingPedersen!.N);
        Assert.Equal(run.Output.Share.RingPedersen.Parameters, key.ServerRingPedersen);
    }

    [Fact]
    public void Server_ring_pedersen_s_outside_the_subgroup_of_t_fails_the_prm_proof()
    {
        // A random unit s is (overwhelmingly) not in ⟨t⟩: commitments s^a·t^γ could then leak the client's α and β.
        Run run = Start();
        BigInteger n = run.Output.Message.Setup.PaillierModulus;
        BigInteger s = PaillierPublicKey.RandomUnit(n);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => run.Client.HandleServerShare(WithSetup(run.Output.Message, m => m with { RingPedersenS = s }))));
    }

    [Fact]
    public void Server_ring_pedersen_with_s_and_t_swapped_is_refused()
    {
        Run run = Start();
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => run.Client.HandleServerShare(
            WithSetup(run.Output.Message, m => m with { RingPedersenS = m.RingPedersenT, RingPedersenT = m.RingPedersenS }))));
    }

    [Theory]
    [InlineData("one")]
    [InlineData("N minus one")]
    [InlineData("multiple of a factor")]
    public void Server_ring_pedersen_t_of_the_wrong_shape_is_refused(string which)
    {
        Run run = Start();
        BigInteger n = run.Output.Message.Setup.PaillierModulus;
        BigInteger t = which switch
        {
            "one" => BigInteger.One,
            "N minus one" => n.Subtract(BigInteger.One),
            _ => run.Output.Share.Paillier.P.Multiply(BigInteger.Three),
        };
        Assert.Equal(MpcErrorCode.InvalidRingPedersenParameters,
            Refusal(() => run.Client.HandleServerShare(WithSetup(run.Output.Message, m => m with { RingPedersenT = t }))));
    }

    [Fact]
    public void Server_prm_proof_from_another_session_is_refused()
    {
        // One Paillier key (hence one derived s, t) in two sessions: the first Πprm is bound to its own session.
        PaillierPrivateKey shared = PaillierPrivateKey.Generate(engine.Backend);
        Run first = Start((_, _) => shared);
        Run second = Start((_, _) => shared);
        Assert.Equal(first.Output.Message.Setup.RingPedersenS, second.Output.Message.Setup.RingPedersenS);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => second.Client.HandleServerShare(
            WithSetup(second.Output.Message, m => m with { RingPedersenProof = first.Output.Message.Setup.RingPedersenProof }))));
    }

    [Fact]
    public void Server_ring_pedersen_s_longer_than_N_is_malformed()
    {
        Run run = Start();
        KeyGenServerShare message = WithSetup(run.Output.Message, m => m with { RingPedersenS = m.PaillierModulus.ShiftLeft(1) });
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => KeyGenServerShare.Decode(message.Encode(), Curve)));
    }

    [Fact]
    public void A_Paillier_key_too_small_for_the_c3_proof_is_never_used_by_the_server()
    {
        // 1024 bits: below 4ℓ + 390 for P-256. The server refuses before it encrypts x1 under it.
        PaillierPrivateKey Small(IBigNumBackend backend, int bits)
        {
            while (true)
            {
                BigInteger p = backend.GeneratePrime(512, blum: true);
                BigInteger q = backend.GeneratePrime(512, blum: true);
                if (!p.Equals(q) && p.Multiply(q).BitLength == 1024)
                {
                    return PaillierPrivateKey.FromPrimesUnchecked(p, q, backend);
                }
            }
        }
        Assert.Equal(MpcErrorCode.PaillierModulusTooSmall, Refusal(() => Start(Small)));
    }

    [Fact]
    public void Truncated_server_share_is_malformed()
    {
        byte[] encoded = Start().Output.Message.Encode();
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => KeyGenServerShare.Decode(encoded.AsSpan(0, encoded.Length - 7), Curve)));
    }

    [Fact]
    public void Server_share_with_trailing_bytes_is_malformed()
    {
        byte[] encoded = [.. Start().Output.Message.Encode(), 0, 0, 0, 0];
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => KeyGenServerShare.Decode(encoded, Curve)));
    }

    // ---- the server's checks of the client's share ----

    private (KeyGenServerSession Server, KeyGenClientShare Share) ServerAwaitingShare()
    {
        var server = new KeyGenServerSession(KeyIds.New(), engine.Backend);
        var client = new KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend);
        KeyGenClientShare share = client.HandleCommitment(server.HandleRequest(client.Start()));
        return (server, share);
    }

    [Fact]
    public void Q2_off_the_curve_is_refused()
    {
        (KeyGenServerSession server, KeyGenClientShare share) = ServerAwaitingShare();
        Assert.Equal(MpcErrorCode.InvalidPoint, Refusal(() => server.HandleClientShare(share with { Q2 = Points.OffCurve(Curve) })));
    }

    [Fact]
    public void Q2_identity_is_refused()
    {
        (KeyGenServerSession server, KeyGenClientShare share) = ServerAwaitingShare();
        Assert.Equal(MpcErrorCode.InvalidPoint, Refusal(() => server.HandleClientShare(share with { Q2 = new byte[33] })));
    }

    [Fact]
    public void Q2_uncompressed_is_refused()
    {
        (KeyGenServerSession server, KeyGenClientShare share) = ServerAwaitingShare();
        byte[] uncompressed = EcCurve.Get(Curve).DecodePoint(share.Q2, "Q2").GetEncoded(false);
        Assert.Equal(MpcErrorCode.InvalidPoint, Refusal(() => server.HandleClientShare(share with { Q2 = uncompressed })));
    }

    [Fact]
    public void Q2_proof_tampered_is_refused()
    {
        (KeyGenServerSession server, KeyGenClientShare share) = ServerAwaitingShare();
        DlogProof tampered = Points.TamperResponse(share.Q2Proof, Curve);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { Q2Proof = tampered })));
    }

    [Fact]
    public void Q2_and_proof_from_another_session_are_refused()
    {
        (KeyGenServerSession _, KeyGenClientShare old) = ServerAwaitingShare();
        (KeyGenServerSession server, KeyGenClientShare share) = ServerAwaitingShare();
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { Q2 = old.Q2, Q2Proof = old.Q2Proof })));
    }

    [Fact]
    public void Ring_pedersen_proof_from_another_session_is_refused()
    {
        (KeyGenServerSession _, KeyGenClientShare old) = ServerAwaitingShare();
        (KeyGenServerSession server, KeyGenClientShare share) = ServerAwaitingShare();
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { RingPedersenProof = old.RingPedersenProof })));
    }

    [Fact]
    public void Replayed_client_share_is_refused()
    {
        (KeyGenServerSession server, KeyGenClientShare share) = ServerAwaitingShare();
        server.HandleClientShare(share);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleClientShare(share)));
    }

    [Fact]
    public void Client_share_before_request_is_refused()
    {
        (KeyGenServerSession _, KeyGenClientShare share) = ServerAwaitingShare();
        var fresh = new KeyGenServerSession(KeyIds.New(), engine.Backend);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => fresh.HandleClientShare(share)));
    }

    [Fact]
    public void A_refused_session_stays_refused()
    {
        (KeyGenServerSession server, KeyGenClientShare share) = ServerAwaitingShare();
        Refusal(() => server.HandleClientShare(share with { Q2 = new byte[33] }));
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => server.HandleClientShare(share)));
    }

    [Fact]
    public void Unknown_curve_in_request_is_refused()
    {
        byte[] encoded = new Crypto.Encoding.WireWriter().WriteUInt32(99).WriteBytes(new byte[32]).ToArray();
        Assert.Equal(MpcErrorCode.UnsupportedCurve, Refusal(() => KeyGenRequest.Decode(encoded)));
    }

    [Fact]
    public void Server_share_before_commitment_is_refused_by_the_client()
    {
        Run run = Start();
        var client = new KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend);
        client.Start();
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => client.HandleServerShare(run.Output.Message)));
    }

    [Fact]
    public void Invalid_key_id_is_refused()
    {
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => new KeyGenServerSession("../etc/passwd", engine.Backend).Dispose()));
    }

    private static byte[] Flip(byte[] value)
    {
        byte[] copy = (byte[])value.Clone();
        copy[^1] ^= 1;
        return copy;
    }
}
