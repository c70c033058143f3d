using System.Security.Cryptography;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;

namespace Mpc.Client.Tests.KeyStore;

/// <summary>
/// One real client share per test class, made by running key generation in-process with every message
/// passed through its wire encoding (the pattern of Mpc.Protocol.Tests' TwoParty).
/// </summary>
public sealed class KeyStoreFixture : IDisposable
{
    public KeyStoreFixture()
    {
        Backend = BigNumBackends.Create(BigNumBackendKind.Auto);
        RingPedersen = RingPedersenSecret.Generate(Backend);
        Share = KeyGen(CurveKind.Secp256k1, RingPedersen, Backend);
    }

    /// <summary>The client's ring-Pedersen secret the share was made with (for device profiles in tests).</summary>
    public RingPedersenSecret RingPedersen { get; }

    public IBigNumBackend Backend { get; }

    public ClientKeyShare Share { get; }

    /// <summary>Asserts <paramref name="loaded"/> holds exactly <see cref="Share"/>'s secret (both exports zeroed after).</summary>
    public void AssertSameShare(ClientKeyShare loaded)
    {
        byte[] expected = Share.ExportSecret();
        byte[] actual = loaded.ExportSecret();
        try
        {
            Assert.Equal(expected, actual);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
            CryptographicOperations.ZeroMemory(actual);
        }
    }

    /// <summary>Cheap Argon2id for most tests: t=1, 1 MiB, p=1, 16-byte salt; the loader's minimum lowered to match.</summary>
    internal static KeyFileOptions Cheap { get; } = CheapOptions(1);

    internal static KeyFileOptions CheapOptions(int iterations)
    {
        Argon2idParameters cheap = Argon2idParameters.Unchecked(iterations, 1024, 1, 16);
        return new KeyFileOptions(cheap, cheap);
    }

    private static ClientKeyShare KeyGen(CurveKind curve, RingPedersenSecret auxiliary, IBigNumBackend backend)
    {
        using var server = new KeyGenServerSession(KeyIds.New(), backend);
        using var client = new KeyGenClientSession(curve, auxiliary, backend);
        KeyGenRequest request = KeyGenRequest.Decode(client.Start().Encode());
        KeyGenCommitment commitment = KeyGenCommitment.Decode(server.HandleRequest(request).Encode());
        KeyGenClientShare clientShare = KeyGenClientShare.Decode(client.HandleCommitment(commitment).Encode(), curve);
        KeyGenServerOutput output = server.HandleClientShare(clientShare);
        output.Share.Dispose();
        return client.HandleServerShare(KeyGenServerShare.Decode(output.Message.Encode(), curve));
    }

    public void Dispose()
    {
        Share.Dispose();
        RingPedersen.Dispose();
    }
}
