using System.Diagnostics;
using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Grains.Sealing;
using Mpc.Protocol.Keys;
using Mpc.Server;

namespace Mpc.Server.Host.Tests.Cluster;

/// <summary>
/// A Redis cluster whose master key lives in a PKCS#11 token (SoftHSM): Redis's data alone opens nothing,
/// and with the token a restarted cluster signs with every key.
/// </summary>
[Collection("cluster")]
public sealed class ClusterHsmTests : IDisposable
{
    private const string Token = "mpc-cluster";
    private const string Pin = "2468";
    private const string SoftHsmLibrary = "/usr/lib/softhsm/libsofthsm2.so";
    private readonly TempDirectory _root = new("mpc-cluster-hsm-");
    private readonly List<SiloProcess> _silos = [];
    private readonly RedisProcess _redis;
    private readonly TestClusterCa _ca;

    public ClusterHsmTests()
    {
        Directory.CreateDirectory(_root.File("redis"));
        _redis = new RedisProcess(_root.File("redis"));
        _ca = new TestClusterCa(_root.File("tls"));
    }

    [Fact]
    public async Task A_Redis_dump_decrypts_nothing_and_with_the_token_a_restarted_cluster_signs_every_key()
    {
        Assert.True(File.Exists(SoftHsmLibrary), "SoftHSM is not installed; .ci/run installs it (apt-get install -y softhsm2).");
        string softHsmConfig = InitialiseToken();
        await _redis.StartAsync();
        string dataDirectory = _root.File("data");
        string unusedKeyDirectory = _root.File("kek-unused");
        using (DevelopmentTokens.Open(dataDirectory, create: true))
        {
        }
        var environment = new Dictionary<string, string>
        {
            ["SOFTHSM2_CONF"] = softHsmConfig,
            ["MPC_PKCS11_PIN"] = Pin,
            ["Mpc__KeyEncryption__Provider"] = "pkcs11",
            ["Mpc__KeyEncryption__Pkcs11__LibraryPath"] = SoftHsmLibrary,
            ["Mpc__KeyEncryption__Pkcs11__TokenLabel"] = Token,
            ["Mpc__KeyEncryption__Pkcs11__CreateKeyIfMissing"] = "true",
        };
        string clusterId = "hsm-" + Guid.NewGuid().ToString("N")[..8];
        for (int i = 0; i < 2; i++)
        {
            _silos.Add(new SiloProcess($"silo{i}", dataDirectory, unusedKeyDirectory, _redis.ConnectionString, clusterId, _ca.Issue($"silo{i}").Environment, environment));
        }
        // One after the other: the first start creates the master key in the token, the second finds it.
        foreach (SiloProcess silo in _silos)
        {
            await silo.StartAsync();
        }

        using DevelopmentTokens tokens = DevelopmentTokens.Open(dataDirectory, create: false);
        using var ringPedersen = Crypto.Proofs.RingPedersenSecret.Generate(BigNumBackends.Default);
        var keys = new List<(string User, string KeyId, byte[] Share, byte[] Spki)>();
        for (int u = 0; u < 3; u++)
        {
            string user = $"hsm-user-{u}";
            using var client = new MpcSignerClient(_silos[u % 2].Url, tokens.Mint(user, TimeSpan.FromHours(1)), new MpcSignerClientOptions { DeviceProfileStore = Mpc.Client.DeviceProfiles.InMemoryDeviceProfileStore.Around(ringPedersen) });
            using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
            await client.SignDataAsync(key, "before the dump"u8.ToArray());
            keys.Add((user, key.KeyId, key.Share.ExportSecret(), key.SubjectPublicKeyInfo));
        }

        // Everything Redis holds, as a thief reading it would have it: every key's every field.
        var dumpText = new System.Text.StringBuilder();
        foreach (string redisKey in _redis.Cli("--scan").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            dumpText.AppendLine(redisKey).AppendLine(_redis.Cli("type", redisKey).Trim() == "hash" ? _redis.Cli("hgetall", redisKey) : _redis.Cli("get", redisKey));
        }
        byte[] dump = System.Text.Encoding.Latin1.GetBytes(dumpText.ToString());
        // Raw bytes, and byte arrays the storage serializer wrote as base64 text.
        List<byte[]> sealedShares = FindSealedShares(dump);
        foreach (System.Text.RegularExpressions.Match run in System.Text.RegularExpressions.Regex.Matches(
            System.Text.Encoding.Latin1.GetString(dump), "[A-Za-z0-9+/]{120,}={0,2}"))
        {
            string text = run.Value[..(run.Value.Length / 4 * 4)];
            byte[] decoded;
            try
            {
                decoded = Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                continue;
            }
            sealedShares.AddRange(FindSealedShares(decoded).Where(b => !sealedShares.Any(known => known.AsSpan().SequenceEqual(b))));
        }
        Assert.True(sealedShares.Count >= keys.Count, $"found {sealedShares.Count} sealed shares in the Redis data");
        Assert.Empty(Directory.GetFiles(_root.Path, FileKeyEncryptionKeyProvider.FileName, SearchOption.AllDirectories));
        string thiefDirectory = _root.File("thief");
        using (var thiefKey = new FileKeyEncryptionKeyProvider(thiefDirectory))
        {
            var sealer = new ShareSealer(thiefKey);
            foreach (byte[] blob in sealedShares)
            {
                Assert.StartsWith("pkcs11:" + Token + "/", ShareSealer.KekIdOf(blob), StringComparison.Ordinal);
                // Whichever key the blob belongs to, the right user and key id do not help without the token.
                foreach ((string user, string keyId, _, _) in keys)
                {
                    await Assert.ThrowsAsync<SealedDataException>(async () =>
                        await sealer.OpenAsync(blob, new SealContext(user, keyId, "server-key-share/primary"), CancellationToken.None));
                }
            }
        }

        // With the token: stop every silo, start again, and every key signs.
        foreach (SiloProcess silo in _silos)
        {
            silo.Kill();
        }
        // A full restart: both come back together on their old endpoints, each superseding its own dead entry
        // in the membership table (a silo alone would wait to reach the other's stale entry).
        await Task.WhenAll(_silos.Select(silo => silo.StartAsync()));
        foreach ((string user, _, byte[] share, byte[] spki) in keys)
        {
            using var client = new MpcSignerClient(_silos[1].Url, tokens.Mint(user, TimeSpan.FromHours(1)));
            using MpcKey key = client.OpenKey(ClientKeyShare.ImportSecret(share, BigNumBackends.Default));
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            MpcSignature signature = await client.SignDigestAsync(key, digest);
            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, spki, digest, signature));
        }
    }

    /// <summary>Sealed-share envelopes inside raw bytes: the wire framing (version 1, then "pkcs11:..." as the KEK id) walked field by field.</summary>
    private static List<byte[]> FindSealedShares(byte[] data)
    {
        var found = new HashSet<string>();
        var blobs = new List<byte[]>();
        byte[] marker = "pkcs11:"u8.ToArray();
        for (int at = data.AsSpan().IndexOf(marker); at >= 0; at = Next(data, marker, at + 1))
        {
            int start = at - 4 - 8;
            if (start < 0 || !data.AsSpan(start, 8).SequenceEqual(new byte[] { 0, 0, 0, 4, 0, 0, 0, 1 }))
            {
                continue;
            }
            int position = start + 8;
            bool complete = true;
            for (int field = 0; field < 5 && complete; field++)
            {
                if (position + 4 > data.Length)
                {
                    complete = false;
                    break;
                }
                int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(position));
                complete = length >= 0 && position + 4 + length <= data.Length;
                position += 4 + Math.Max(length, 0);
            }
            if (complete)
            {
                byte[] blob = data.AsSpan(start, position - start).ToArray();
                if (found.Add(Convert.ToHexString(blob)))
                {
                    blobs.Add(blob);
                }
            }
        }
        return blobs;
    }

    private static int Next(byte[] data, byte[] marker, int from)
    {
        int index = data.AsSpan(from).IndexOf(marker);
        return index < 0 ? -1 : from + index;
    }

    private string InitialiseToken()
    {
        string tokens = _root.File("tokens");
        Directory.CreateDirectory(tokens);
        string config = _root.File("softhsm2.conf");
        File.WriteAllText(config, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n");
        var start = new ProcessStartInfo("softhsm2-util", ["--init-token", "--free", "--label", Token, "--so-pin", "1357", "--pin", Pin])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["SOFTHSM2_CONF"] = config;
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "softhsm2-util --init-token failed: " + output);
        return config;
    }

    public void Dispose()
    {
        foreach (SiloProcess silo in _silos)
        {
            silo.Dispose();
        }
        _redis.Dispose();
        _ca.Dispose();
        _root.Dispose();
    }
}
