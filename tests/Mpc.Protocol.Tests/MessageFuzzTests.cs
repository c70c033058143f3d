using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Mpc.Protocol.Signing;

namespace Mpc.Protocol.Tests;

/// <summary>
/// Mutation fuzzing of every protocol message decoder and of the exported key shares (<see cref="Mutations"/>): a mutant
/// is either refused with <see cref="MpcProtocolException"/> or accepted as exactly the bytes it re-encodes to (one
/// encoding per message), and a session handed a mutated message refuses it the same way or carries on correctly.
/// </summary>
[Collection("engine")]
public sealed class MessageFuzzTests(EngineFixture engine)
{
    private const CurveKind Curve = CurveKind.P256;

    private static bool Documented(Exception e) => e is MpcProtocolException;

    /// <summary>One valid message of every kind, from one real key generation, signature and refresh.</summary>
    private List<(string Name, byte[] Bytes, Func<byte[], byte[]> RoundTrip)> Messages()
    {
        TwoPartyKey key = engine.Key(Curve);
        int bits = key.Server.PaillierModulusBits;
        var messages = new List<(string, byte[], Func<byte[], byte[]>)>();

        var keyGenClient = new KeyGen.KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend);
        KeyGenRequest keyGenRequest = keyGenClient.Start();
        using (var keyGenServer = new KeyGen.KeyGenServerSession(KeyIds.New(), engine.Backend))
        {
            KeyGenCommitment commitment = keyGenServer.HandleRequest(keyGenRequest);
            KeyGenClientShare clientShare = keyGenClient.HandleCommitment(commitment);
            KeyGenServerShare serverShare = keyGenServer.HandleClientShare(clientShare).Message;
            messages.Add((nameof(KeyGenRequest), keyGenRequest.Encode(), b => KeyGenRequest.Decode(b).Encode()));
            messages.Add((nameof(KeyGenCommitment), commitment.Encode(), b => KeyGenCommitment.Decode(b).Encode()));
            messages.Add((nameof(KeyGenClientShare), clientShare.Encode(), b => KeyGenClientShare.Decode(b, Curve).Encode()));
            messages.Add((nameof(KeyGenServerShare), serverShare.Encode(), b => KeyGenServerShare.Decode(b, Curve).Encode()));
        }

        var signServer = new SignServerSession(key.Server, key.Client.DeviceId);
        var signClient = new SignClientSession(key.Client, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignNonce nonce = signClient.HandleCommitment(signServer.Commitment);
        SignOpening opening = signServer.HandleNonce(nonce);
        SignCiphertext ciphertext = signClient.HandleOpening(opening);
        SignResult result = signServer.HandleCiphertext(ciphertext).Message!;
        messages.Add((nameof(SignCommitment), signServer.Commitment.Encode(), b => SignCommitment.Decode(b).Encode()));
        messages.Add((nameof(SignNonce), nonce.Encode(), b => SignNonce.Decode(b, Curve).Encode()));
        messages.Add((nameof(SignOpening), opening.Encode(), b => SignOpening.Decode(b, Curve).Encode()));
        messages.Add((nameof(SignCiphertext), ciphertext.Encode(), b => SignCiphertext.Decode(b, Curve, bits).Encode()));
        messages.Add((nameof(SignResult), result.Encode(), b => SignResult.Decode(b, Curve).Encode()));

        var refreshServer = RefreshServerSession.FromShare(key.Server, key.Client.DeviceId, RefreshPurpose.Refresh, engine.Backend);
        var refreshClient = RefreshClientSession.FromShare(key.Client, RefreshPurpose.Refresh, engine.Auxiliary, engine.Backend);
        RefreshRequest refreshRequest = refreshClient.Start();
        RefreshCommitment refreshCommitment = refreshServer.HandleRequest(refreshRequest);
        RefreshContribution contribution = refreshClient.HandleCommitment(refreshCommitment);
        RefreshServerShare refreshShare = refreshServer.HandleContribution(contribution);
        RefreshConfirmation confirmation = refreshClient.HandleServerShare(refreshShare).Confirmation;
        messages.Add((nameof(RefreshRequest), refreshRequest.Encode(), b => RefreshRequest.Decode(b).Encode()));
        messages.Add((nameof(RefreshCommitment), refreshCommitment.Encode(), b => RefreshCommitment.Decode(b).Encode()));
        messages.Add((nameof(RefreshContribution), contribution.Encode(), b => RefreshContribution.Decode(b, Curve).Encode()));
        messages.Add((nameof(RefreshServerShare), refreshShare.Encode(), b => RefreshServerShare.Decode(b, Curve).Encode()));
        messages.Add((nameof(RefreshConfirmation), confirmation.Encode(), b => RefreshConfirmation.Decode(b, Curve).Encode()));
        return messages;
    }

    [Fact]
    public void Mutated_messages_are_refused_or_decode_to_exactly_their_own_bytes()
    {
        List<(string Name, byte[] Bytes, Func<byte[], byte[]> RoundTrip)> messages = Messages();
        foreach ((string name, byte[] bytes, Func<byte[], byte[]> roundTrip) in messages)
        {
            Assert.Equal(bytes, roundTrip(bytes));
        }
        var mutations = new Mutations("protocol messages");
        int count = Mutations.Iterations(300) * messages.Count;
        foreach ((string name, Mutant mutant) in mutations.Of([.. messages.Select(m => (m.Name, m.Bytes))], count))
        {
            Func<byte[], byte[]> roundTrip = messages.Single(m => m.Name == name).RoundTrip;
            mutations.Check(mutant, bytes =>
            {
                if (!roundTrip(bytes).AsSpan().SequenceEqual(bytes))
                {
                    throw mutations.Failure(mutant, null, $"{name} decoded to a message that encodes to other bytes");
                }
            }, Documented, name);
        }
    }

    /// <summary>
    /// Signing with one message mutated on its way (the server's commitment or opening to the client, the client's nonce
    /// to the server): the receiving session refuses it, now or at a later check, or the signature it yields verifies.
    /// </summary>
    [Theory]
    [InlineData(nameof(SignCommitment))]
    [InlineData(nameof(SignNonce))]
    [InlineData(nameof(SignOpening))]
    public void Mutated_signing_messages_are_refused_by_the_sessions_or_sign_correctly(string stage)
    {
        TwoPartyKey key = engine.Key(Curve);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        var mutations = new Mutations($"signing session, {stage}");
        for (int i = 0; i < Mutations.Iterations(30); i++)
        {
            // Fresh sessions each time (a refused message ends its session); the mutation is drawn for the fresh message.
            var server = new SignServerSession(key.Server, key.Client.DeviceId);
            var client = new SignClientSession(key.Client, Digest.Parse(digest));
            byte[] original = [];
            Mutant? applied = null;
            Func<byte[], byte[]> mutate = bytes =>
            {
                original = bytes;
                applied = mutations.Of(bytes, 1).Single() with { Index = i };
                return applied.Bytes;
            };
            try
            {
                byte[] commitment = server.Commitment.Encode();
                if (stage == nameof(SignCommitment))
                {
                    commitment = mutate(commitment);
                }
                byte[] nonce = client.HandleCommitment(SignCommitment.Decode(commitment)).Encode();
                if (stage == nameof(SignNonce))
                {
                    nonce = mutate(nonce);
                }
                byte[] opening = server.HandleNonce(SignNonce.Decode(nonce, Curve)).Encode();
                if (stage == nameof(SignOpening))
                {
                    opening = mutate(opening);
                }
                SignCiphertext ciphertext = client.HandleOpening(SignOpening.Decode(opening, Curve));
                SignServerOutcome outcome = server.HandleCiphertext(SignCiphertext.Decode(ciphertext.Encode(), Curve, key.Server.PaillierModulusBits));
                Assert.False(outcome.KeyMustBeFrozen, $"A mutated {stage} froze the key. Repeat with {mutations.Reproduce}, iteration {i}.");
                EcdsaSignature signature = client.HandleResult(SignResult.Decode(outcome.Message!.Encode(), Curve));
                Assert.True(IndependentVerifiers.BouncyCastle(Curve, key.Server.PublicKey, digest, signature),
                    $"A mutated {stage} gave a signature that does not verify. Repeat with {mutations.Reproduce}, iteration {i}.");
                // The commitment and its opening are bound to each other: a changed one never completes a signature.
                Assert.True(stage == nameof(SignNonce) || applied is null || applied.Bytes.AsSpan().SequenceEqual(original),
                    $"A mutated {stage} was accepted. Repeat with {mutations.Reproduce}, iteration {i}.");
            }
            catch (Exception e) when (Documented(e))
            {
                // Refused: what a mutated message should get.
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw mutations.Failure(applied ?? new Mutant(i, "none", []), e, stage);
            }
        }
    }

    [Fact]
    public void Mutated_key_share_exports_are_refused_or_import_as_the_share_they_spell()
    {
        TwoPartyKey key = engine.Key(Curve);
        byte[] client = key.Client.ExportSecret();
        byte[] server = key.Server.ExportSecret();
        var mutations = new Mutations("exported key shares");
        foreach ((string name, Mutant mutant) in mutations.Of([("client", client), ("server", server)], Mutations.Iterations(100) * 2))
        {
            mutations.Check(mutant, bytes =>
            {
                // An export carries no integrity of its own (the key file's AES-GCM or the grain's sealing does): a mutant
                // may import as another share, but only as exactly the share its bytes spell.
                byte[] again;
                if (name == "client")
                {
                    using ClientKeyShare share = ClientKeyShare.ImportSecret(bytes, engine.Backend);
                    again = share.ExportSecret();
                }
                else
                {
                    using ServerKeyShare share = ServerKeyShare.ImportSecret(bytes, engine.Backend);
                    again = share.ExportSecret();
                }
                if (!again.AsSpan().SequenceEqual(bytes))
                {
                    throw mutations.Failure(mutant, null, $"{name} share imported as one that exports to other bytes");
                }
            }, Documented, name);
        }
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(4u)]
    [InlineData(0x7FFFFFFFu)]
    [InlineData(0x80000000u)]
    [InlineData(0xFFFFFFFFu)]
    public void A_curve_field_outside_the_enum_is_an_unsupported_curve(uint curve)
    {
        byte[] nonce = new byte[ProtocolLimits.NonceLength];
        byte[] keyGen = new WireWriter().WriteUInt32(curve).WriteBytes(nonce).ToArray();
        byte[] refresh = new WireWriter().WriteUInt32((uint)RefreshPurpose.Refresh).WriteUInt32(curve).WriteBytes(nonce).ToArray();

        Assert.Equal(MpcErrorCode.UnsupportedCurve, Assert.Throws<MpcProtocolException>(() => KeyGenRequest.Decode(keyGen)).Code);
        Assert.Equal(MpcErrorCode.UnsupportedCurve, Assert.Throws<MpcProtocolException>(() => RefreshRequest.Decode(refresh)).Code);
    }

    [Theory]
    [InlineData(0x80000000u)]
    [InlineData(0xFFFFFFFFu)]
    public void An_exported_share_with_a_curve_outside_the_enum_is_refused(uint curve)
    {
        TwoPartyKey key = engine.Key(Curve);
        byte[] client = WithCurve(key.Client.ExportSecret(), key.Client.KeyId, curve);
        byte[] server = WithCurve(key.Server.ExportSecret(), key.Server.KeyId, curve);

        Assert.Equal(MpcErrorCode.UnsupportedCurve, Assert.Throws<MpcProtocolException>(() => ClientKeyShare.ImportSecret(client, engine.Backend)).Code);
        Assert.Equal(MpcErrorCode.UnsupportedCurve, Assert.Throws<MpcProtocolException>(() => ServerKeyShare.ImportSecret(server, engine.Backend)).Code);
    }

    /// <summary>An export with its curve field's value replaced: after the version (4 + 4 bytes) and the key id (4 + its length), then the field's own length.</summary>
    private static byte[] WithCurve(byte[] export, string keyId, uint curve)
    {
        int at = 8 + 4 + System.Text.Encoding.UTF8.GetByteCount(keyId) + 4;
        Assert.Equal((uint)Curve, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(export.AsSpan(at)));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(export.AsSpan(at), curve);
        return export;
    }

    [Fact]
    public void A_mutated_ring_Pedersen_secret_is_refused_or_imports_as_the_secret_it_spells()
    {
        byte[] secret = engine.Auxiliary.ExportSecret();
        var mutations = new Mutations("ring-Pedersen secret");
        // Each import that gets past the framing checks the parameters (big-number work): fewer than the messages.
        foreach (Mutant mutant in mutations.Of(secret, Mutations.Iterations(60)))
        {
            mutations.Check(mutant, bytes =>
            {
                using Crypto.Proofs.RingPedersenSecret imported = Crypto.Proofs.RingPedersenSecret.ImportSecret(bytes, engine.Backend);
                if (!imported.ExportSecret().AsSpan().SequenceEqual(bytes))
                {
                    throw mutations.Failure(mutant, null, "imported as a secret that exports to other bytes");
                }
            }, Documented);
        }
    }
}
