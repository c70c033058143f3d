using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;

namespace Mpc.Benchmarks;

/// <summary>Key material for the engine benchmarks: one joint key made by the real key generation.</summary>
internal sealed class EngineSetup : IDisposable
{
    public EngineSetup(CurveKind curve, BigNumBackendKind backendKind)
    {
        Backend = BigNumBackends.Create(backendKind);
        Auxiliary = SharedRingPedersen.For(Backend);
        (Server, Client) = KeyGen(curve, Auxiliary, Backend);
        Digest = System.Security.Cryptography.SHA512.HashData("benchmark document"u8)[..EcCurve.Get(curve).ScalarLength];
    }

    /// <summary>The user the benchmarks' server sessions act for.</summary>
    private const string BenchmarkUser = "benchmark";

    public IBigNumBackend Backend { get; }

    public RingPedersenSecret Auxiliary { get; }

    public ServerKeyShare Server { get; }

    public ClientKeyShare Client { get; }

    public byte[] Digest { get; }

    /// <param name="knownParameters">The server's memory of verified client ring-Pedersen parameters (null: verify every time).</param>
    public static (ServerKeyShare Server, ClientKeyShare Client) KeyGen(
        CurveKind curve, RingPedersenSecret auxiliary, IBigNumBackend backend, IPaillierKeySource? paillierKeys = null, VerifiedRingPedersenCache? knownParameters = null)
    {
        var server = new KeyGenServerSession(Protocol.KeyIds.New(), backend)
        {
            PaillierKeys = paillierKeys ?? FreshPaillierKeys.Instance,
            KnownClientParameters = knownParameters?.For(BenchmarkUser),
        };
        var client = new KeyGenClientSession(curve, auxiliary, backend);
        KeyGenClientShare share = client.HandleCommitment(server.HandleRequest(client.Start()));
        KeyGenServerOutput output = server.HandleClientShare(share);
        return (output.Share, client.HandleServerShare(output.Message));
    }

    /// <summary>One share refresh of the pair, both parties; the pair itself stays as it was (the new one is returned).</summary>
    public static (ServerKeyShare Server, ClientKeyShare Client) Refresh(
        ServerKeyShare serverShare, ClientKeyShare clientShare, RingPedersenSecret auxiliary, IBigNumBackend backend,
        IPaillierKeySource? paillierKeys = null, VerifiedRingPedersenCache? knownParameters = null)
    {
        var server = Protocol.Refresh.RefreshServerSession.FromShare(serverShare, clientShare.DeviceId, RefreshPurpose.Refresh, backend);
        server.PaillierKeys = paillierKeys ?? FreshPaillierKeys.Instance;
        server.KnownClientParameters = knownParameters?.For(BenchmarkUser);
        var client = Protocol.Refresh.RefreshClientSession.FromShare(clientShare, RefreshPurpose.Refresh, auxiliary, backend);
        Protocol.Refresh.RefreshClientOutput output = client.HandleServerShare(server.HandleContribution(client.HandleCommitment(server.HandleRequest(client.Start()))));
        return (server.HandleConfirmation(output.Confirmation), output.Share);
    }

    /// <summary>A full signature, both parties in this process, no encoding and no network.</summary>
    public EcdsaSignature Sign(SignCiphertextRandomness? randomness)
    {
        var server = new SignServerSession(Server);
        var client = new SignClientSession(Client, Mpc.Crypto.Curves.Digest.Parse(Digest), lowS: false, randomness);
        SignOpening opening = server.HandleNonce(client.HandleCommitment(server.Commitment));
        SignServerOutcome outcome = server.HandleCiphertext(client.HandleOpening(opening));
        return client.HandleResult(outcome.Message ?? throw new InvalidOperationException("key must be frozen"));
    }

    /// <summary>The client's single-use precomputed part of c3 and its proof, as the SDK prepares it in the background.</summary>
    public SignCiphertextRandomness NewRandomness() =>
        SignCiphertextRandomness.Create(EcCurve.Get(Client.Curve), Client.Paillier, Client.EncryptedServerShare, Client.ServerRingPedersen!);

    /// <summary>Disposes the key shares; the shared ring-Pedersen parameters live as long as the process.</summary>
    public void Dispose()
    {
        Server.Dispose();
        Client.Dispose();
    }
}
