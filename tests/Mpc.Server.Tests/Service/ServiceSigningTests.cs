using System.Collections.Concurrent;
using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Server.Tests.Service;

/// <summary>Keys made and used through the real gRPC service, across a server restart, and under concurrency.</summary>
[Collection("server")]
public sealed class ServiceSigningTests(ServerFixture server)
{
    private const int SignaturesPerCurve = 100;

    [Theory]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public async Task Hundred_signatures_per_curve_verify_independently_across_a_restart(CurveKind curve)
    {
        string user = $"signer-{curve}";
        byte[] exported;
        byte[] spki;
        var rValues = new HashSet<string>();
        using (MpcSignerClient client = server.Client(user))
        using (MpcKey key = await client.CreateKeyAsync(curve))
        {
            exported = key.Share.ExportSecret();
            spki = key.SubjectPublicKeyInfo;
            await SignAndVerify(client, key, curve, spki, SignaturesPerCurve / 2, rValues);
        }

        // Only what was stored survives a restart: the key must still be there and sign.
        await server.RestartAsync();
        using (MpcSignerClient client = server.Client(user))
        using (MpcKey key = client.OpenKey(ClientKeyShare.ImportSecret(exported, BigNumBackends.Default)))
        {
            MpcKeyInfo info = await client.GetKeyAsync(key.KeyId);
            Assert.Equal(spki, info.SubjectPublicKeyInfo);
            Assert.False(info.Frozen);
            await SignAndVerify(client, key, curve, spki, SignaturesPerCurve / 2, rValues);
        }
        Assert.Equal(SignaturesPerCurve, rValues.Count);
    }

    [Fact]
    public async Task Thirty_two_clients_sign_at_once_on_one_user_and_across_users()
    {
        // 16 clients share one key of one user; 16 more spread over 4 other users' keys.
        var keys = new List<(MpcSignerClient Client, MpcKey Key)>();
        using (MpcSignerClient shared = server.Client("crowd"))
        {
            MpcKey crowdKey = await shared.CreateKeyAsync(CurveKind.P256);
            byte[] crowdShare = crowdKey.Share.ExportSecret();
            crowdKey.Dispose();
            for (int i = 0; i < 16; i++)
            {
                MpcSignerClient client = server.Client("crowd");
                keys.Add((client, client.OpenKey(ClientKeyShare.ImportSecret(crowdShare, BigNumBackends.Default))));
            }
        }
        for (int u = 0; u < 4; u++)
        {
            MpcSignerClient owner = server.Client($"user-{u}");
            MpcKey key = await owner.CreateKeyAsync(u % 2 == 0 ? CurveKind.Secp256k1 : CurveKind.P256);
            byte[] share = key.Share.ExportSecret();
            keys.Add((owner, key));
            for (int i = 1; i < 4; i++)
            {
                MpcSignerClient client = server.Client($"user-{u}");
                keys.Add((client, client.OpenKey(ClientKeyShare.ImportSecret(share, BigNumBackends.Default))));
            }
        }
        Assert.Equal(32, keys.Count);

        var rValues = new ConcurrentDictionary<string, int>();
        using var start = new ManualResetEventSlim();
        Task[] workers = [.. keys.Select(pair => Task.Run(async () =>
        {
            start.Wait();
            for (int i = 0; i < 4; i++)
            {
                byte[] digest = RandomNumberGenerator.GetBytes(32);
                MpcSignature signature = await pair.Client.SignDigestAsync(pair.Key, digest);
                Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(pair.Key.Curve, pair.Key.SubjectPublicKeyInfo, digest, signature));
                Assert.True(rValues.TryAdd(Convert.ToHexString(signature.R), 0), "an r value repeated");
            }
        }))];
        start.Set();
        await Task.WhenAll(workers);
        Assert.Equal(32 * 4, rValues.Count);
        foreach ((MpcSignerClient client, MpcKey key) in keys)
        {
            key.Dispose();
            client.Dispose();
        }
    }

    [Fact]
    public async Task The_ECDsa_adapter_signs_for_platform_APIs()
    {
        using MpcSignerClient client = server.Client("ecdsa-user");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using MpcECDsa ecdsa = client.CreateECDsa(key);
        byte[] data = RandomNumberGenerator.GetBytes(300);
        byte[] signature = ecdsa.SignData(data, HashAlgorithmName.SHA256);
        using var verifier = ECDsa.Create(ecdsa.ExportParameters(false));
        Assert.True(verifier.VerifyData(data, signature, HashAlgorithmName.SHA256));
        // A certificate signing request signed by the split key, as a CA would receive it; .NET checks its signature on load.
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=split key", ecdsa, HashAlgorithmName.SHA256);
        byte[] pkcs10 = request.CreateSigningRequest();
        var loaded = System.Security.Cryptography.X509Certificates.CertificateRequest.LoadSigningRequest(
            pkcs10, HashAlgorithmName.SHA256, System.Security.Cryptography.X509Certificates.CertificateRequestLoadOptions.Default);
        Assert.Equal(key.SubjectPublicKeyInfo, loaded.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Throws<CryptographicException>(() => ecdsa.ExportParameters(true));
    }

    private static async Task SignAndVerify(MpcSignerClient client, MpcKey key, CurveKind curve, byte[] spki, int count, HashSet<string> rValues)
    {
        for (int i = 0; i < count; i++)
        {
            byte[] document = RandomNumberGenerator.GetBytes(50 + i);
            MpcSignature signature = await client.SignDataAsync(key, document, new MpcSignOptions { LowS = curve == CurveKind.Secp256k1 });
            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(curve, spki, MpcSignerClient.HashFor(curve, document), signature), $"signature {i} on {curve} failed");
            Assert.True(rValues.Add(Convert.ToHexString(signature.R)), "an r value repeated");
        }
    }
}
