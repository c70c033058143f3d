using System.Diagnostics;
using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;

namespace Mpc.Server.Host.Tests;

/// <summary>
/// The real programs: a spawned `mpc-server` on a loopback port (tokens from `mpc-server token`), driven by `mpc keygen/pubkey/sign/verify`
/// processes and by the SDK, with the server killed (SIGKILL) and restarted in between.
/// </summary>
public sealed class SpawnedServerTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const string PassphraseVariable = "MPC_TEST_PASSPHRASE";
    private readonly TempDirectory _root = new("mpc-spawned-");
    private readonly int _port = ClusterPorts.Free();
    private readonly ProcessOutputTail _serverLog = new(kept: 600);
    private int _serverRuns;
    private Process? _server;

    private string DataDirectory => _root.File("data");

    private string Url => $"http://127.0.0.1:{_port}";

    [Fact]
    public async Task The_cli_and_the_sdk_drive_a_spawned_server_that_survives_a_kill()
    {
        await StartServer();
        string token = Run("dotnet", [ProcessRunner.ServerDll, "token", "--data", DataDirectory, "--user", "cli-user"]).Stdout.Trim();
        Assert.Equal(3, token.Split('.').Length);

        var keyFiles = new Dictionary<CurveKind, string>();
        foreach ((CurveKind curve, string name) in new[] { (CurveKind.Secp256k1, "secp256k1"), (CurveKind.P256, "p256"), (CurveKind.P384, "p384") })
        {
            string keyFile = Path.Combine(_root.Path, $"{name}.key");
            ProcessResult keygen = Cli("keygen", "--server", Url, "--token-file", TokenFile(token), "--curve", name, "--out", keyFile, "--passphrase-env", PassphraseVariable);
            Assert.True(keygen.ExitCode == 0, keygen.Stderr);
            Assert.Contains("Key id:", keygen.Stdout, StringComparison.Ordinal);
            Assert.Contains("BEGIN PUBLIC KEY", keygen.Stdout, StringComparison.Ordinal);
            keyFiles[curve] = keyFile;
            SignAndVerifyWithCli(curve, keyFile, token, name);
        }

        // The SDK against the same process: 20 signatures per curve, each checked independently.
        await SignWithSdk(keyFiles, token, 20);

        // SIGKILL: no graceful shutdown, nothing flushed on the way out. Every key must still sign, whether or not a
        // final-check marker was still stored (A_kill_while_a_final_check_marker_is_stored_is_recovered_on_restart...).
        _server!.Kill(entireProcessTree: true);
        await _server.WaitForExitAsync();
        await StartServer();
        await SignWithSdk(keyFiles, token, 10);
        SignAndVerifyWithCli(CurveKind.P256, keyFiles[CurveKind.P256], token, "p256-after-kill");

        // Clear one-line errors and non-zero exits.
        ProcessResult wrongPassphrase = Cli(["sign", "--server", Url, "--token-file", TokenFile(token), "--key", keyFiles[CurveKind.P256], "--in", keyFiles[CurveKind.P256], "--out", _root.File("x.sig"), "--passphrase-env", "MPC_WRONG_PASSPHRASE"]);
        Assert.NotEqual(0, wrongPassphrase.ExitCode);
        Assert.StartsWith("error: ", wrongPassphrase.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(wrongPassphrase.Stderr.Trim().Split('\n'));
        ProcessResult badToken = Cli("keygen", "--server", Url, "--token-file", TokenFile("not.a.token"), "--out", _root.File("y.key"), "--unprotected");
        Assert.Equal((6, "error: the token is not a JWT: check MPC_TOKEN or the --token-file file (it must hold the token only)"), (badToken.ExitCode, badToken.Stderr.Trim()));
        string forgedToken = token[..^4] + (token.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        ProcessResult refused = Cli("keygen", "--server", Url, "--token-file", TokenFile(forgedToken), "--out", _root.File("y.key"), "--unprotected");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.StartsWith("error: the server refused: Unauthenticated", refused.Stderr.Trim().Split('\n')[^1], StringComparison.Ordinal);
        Assert.False(File.Exists(_root.File("y.key")));
        ProcessResult badCurve = Cli("keygen", "--server", Url, "--token-file", TokenFile(token), "--curve", "ed25519", "--out", _root.File("z.key"), "--unprotected");
        Assert.Equal("error: Unsupported curve 'ed25519'; use secp256k1, p256 or p384.", badCurve.Stderr.Trim());
        Assert.False(File.Exists(_root.File("z.key")));
    }

    /// <summary>
    /// A silo killed after c3 was decrypted and before the outcome was recorded leaves the final-check marker in
    /// storage. The restarted server re-runs that check from the marker (c3, R2, r, digest) with the key's share: the
    /// check passes, the marker is cleared and the key signs again with no operator and no refresh. The marker is held
    /// in storage here by a long idle-clear delay: the same stored state a kill mid-check leaves behind.
    /// </summary>
    [Fact]
    public async Task A_kill_while_a_final_check_marker_is_stored_is_recovered_on_restart_without_an_operator()
    {
        var environment = new Dictionary<string, string> { ["Mpc__Signer__FinalCheckMarkerClearDelay"] = "01:00:00" };
        await StartServer(environment);
        string token;
        using (Mpc.Server.DevelopmentTokens tokens = Mpc.Server.DevelopmentTokens.Open(DataDirectory, create: false))
        {
            token = tokens.Mint("killed-mid-check", TimeSpan.FromHours(1));
        }
        byte[] share;
        string keyId;
        using (var client = new MpcSignerClient(new Uri(Url), token))
        using (MpcKey key = await client.CreateKeyAsync(CurveKind.P256))
        {
            await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
            share = key.Share.ExportSecret();
            keyId = key.KeyId;
        }
        Mpc.Grains.KeyStatusEntry before = (await FinalCheckMarkers.ReadAsync(DataDirectory, "killed-mid-check")).Keys[keyId];
        Assert.NotNull(before.PendingCheck?.C3);

        _server!.Kill(entireProcessTree: true);
        await _server.WaitForExitAsync();
        await StartServer(environment);
        using (var client = new MpcSignerClient(new Uri(Url), token))
        using (MpcKey key = client.OpenKey(Mpc.Protocol.Keys.ClientKeyShare.ImportSecret(share, BigNumBackends.Default)))
        {
            Assert.False((await client.GetKeyAsync(key.KeyId)).Frozen);
            Mpc.Grains.KeyStatusEntry after = (await FinalCheckMarkers.ReadAsync(DataDirectory, "killed-mid-check")).Keys[keyId];
            Assert.Null(after.PendingCheck);
            Assert.Equal(Mpc.Grains.Abstractions.KeyStatus.Active, after.Status);
            for (int i = 0; i < 3; i++)
            {
                byte[] digest = RandomNumberGenerator.GetBytes(32);
                Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, await client.SignDigestAsync(key, digest)));
            }
        }
    }

    /// <summary>
    /// A refresh or a revocation right after a signature, while that signature's (finished) marker still waits for its
    /// idle clear, then a kill: the marker would name a share that no longer exists, so no restart could re-run it and
    /// the key would stay frozen until an operator acts. The change clears the marker first.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refresh_or_revocation_right_after_a_signature_leaves_the_key_signing_after_a_kill(bool revoke)
    {
        string user = revoke ? "revoked-after-sign" : "refreshed-after-sign";
        var environment = new Dictionary<string, string> { ["Mpc__Signer__FinalCheckMarkerClearDelay"] = "01:00:00" };
        await StartServer(environment);
        string token;
        using (Mpc.Server.DevelopmentTokens tokens = Mpc.Server.DevelopmentTokens.Open(DataDirectory, create: false))
        {
            token = tokens.Mint(user, TimeSpan.FromHours(1));
        }
        byte[] share;
        string keyId;
        using (var client = new MpcSignerClient(new Uri(Url), token))
        using (MpcKey key = await client.CreateKeyAsync(CurveKind.P256))
        {
            // With a revocation the backup signs afterwards: it is restored onto this client below.
            using Mpc.Protocol.Keys.ClientKeyShare? backup = revoke ? await client.CreateBackupAsync(key, "backup") : null;
            await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
            Assert.NotNull((await FinalCheckMarkers.ReadAsync(DataDirectory, user)).Keys[key.KeyId].PendingCheck);
            if (revoke)
            {
                await client.RevokeDeviceAsync(key.KeyId, key.Share.DeviceId);
                share = backup!.ExportSecret();
            }
            else
            {
                using MpcKey refreshed = await client.RefreshKeyAsync(key);
                share = refreshed.Share.ExportSecret();
            }
            keyId = key.KeyId;
        }
        Assert.Null((await FinalCheckMarkers.ReadAsync(DataDirectory, user)).Keys[keyId].PendingCheck);

        _server!.Kill(entireProcessTree: true);
        await _server.WaitForExitAsync();
        await StartServer(environment);
        using (var client = new MpcSignerClient(new Uri(Url), token))
        using (Mpc.Protocol.Keys.ClientKeyShare imported = Mpc.Protocol.Keys.ClientKeyShare.ImportSecret(share, BigNumBackends.Default))
        using (MpcKey key = revoke ? await client.RestoreBackupAsync(imported, "restored") : client.OpenKey(imported))
        {
            Assert.False((await client.GetKeyAsync(keyId)).Frozen);
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, await client.SignDigestAsync(key, digest)));
        }
    }

    [Fact]
    public void The_readme_demo_runs_to_the_end_and_openssl_verifies_its_signature()
    {
        string output = _root.File("demo");
        ProcessResult demo = Cli("demo", "--out", output);
        Assert.True(demo.ExitCode == 0, demo.Stderr);
        Assert.Contains("openssl dgst -sha256 -verify", demo.Stdout, StringComparison.Ordinal);
        ProcessResult openssl = Run("openssl", ["dgst", "-sha256", "-verify", Path.Combine(output, "public.pem"),
            "-signature", Path.Combine(output, "signature.der"), Path.Combine(output, "document.txt")]);
        Assert.Equal("Verified OK", openssl.Stdout.Trim());
    }

    private void SignAndVerifyWithCli(CurveKind curve, string keyFile, string token, string name)
    {
        string document = Path.Combine(_root.Path, $"{name}.txt");
        File.WriteAllText(document, $"A document for {name}, {Guid.NewGuid()}.");
        string signature = Path.Combine(_root.Path, $"{name}.sig");
        string publicKey = Path.Combine(_root.Path, $"{name}.pem");
        ProcessResult pubkey = Cli("pubkey", "--key", keyFile, "--passphrase-env", PassphraseVariable);
        Assert.Equal(0, pubkey.ExitCode);
        File.WriteAllText(publicKey, pubkey.Stdout);
        ProcessResult sign = Cli("sign", "--server", Url, "--token-file", TokenFile(token), "--key", keyFile, "--in", document, "--out", signature, "--passphrase-env", PassphraseVariable);
        Assert.True(sign.ExitCode == 0, sign.Stderr);

        ProcessResult verify = Cli("verify", "--pub", publicKey, "--in", document, "--sig", signature);
        Assert.Equal((0, "Verified OK"), (verify.ExitCode, verify.Stdout.Trim()));
        ProcessResult openssl = Run("openssl", ["dgst", curve == CurveKind.P384 ? "-sha384" : "-sha256", "-verify", publicKey, "-signature", signature, document]);
        Assert.True(openssl.Stdout.Contains("Verified OK", StringComparison.Ordinal), openssl.Stdout + openssl.Stderr);

        File.AppendAllText(document, "tampered");
        ProcessResult tampered = Cli("verify", "--pub", publicKey, "--in", document, "--sig", signature);
        Assert.Equal((3, "Verification failure"), (tampered.ExitCode, tampered.Stdout.Trim()));
    }

    private async Task SignWithSdk(Dictionary<CurveKind, string> keyFiles, string token, int count)
    {
        using var client = new MpcSignerClient(new Uri(Url), token);
        foreach ((CurveKind curve, string keyFile) in keyFiles)
        {
            using MpcKey key = client.OpenKey(ClientKeyFile.Load(keyFile, KeyFileProtection.Passphrase(Passphrase)));
            for (int i = 0; i < count; i++)
            {
                byte[] document = RandomNumberGenerator.GetBytes(64);
                MpcSignature signature = await client.SignDataAsync(key, document);
                Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(curve, key.SubjectPublicKeyInfo, MpcSignerClient.HashFor(curve, document), signature));
            }
        }
    }

    private const string Passphrase = "correct horse battery staple";

    private async Task StartServer(Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet", [ProcessRunner.ServerDll, "--urls", Url, "--data", DataDirectory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { [TestServerPool.Variable] = TestServerPool.Size.ToString() },
        };
        foreach ((string name, string value) in environment ?? [])
        {
            start.Environment[name] = value;
        }
        // Each request's start and end with its time, so a call that hits its deadline shows where the server was.
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
        _server = new Process { StartInfo = start };
        string run = $"server#{++_serverRuns}";
        _server.OutputDataReceived += (_, line) => _serverLog.Add(line.Data, run);
        _server.ErrorDataReceived += (_, line) => _serverLog.Add(line.Data, run);
        _server.Start();
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_server.HasExited, "mpc-server exited during start-up");
            if (File.Exists(Path.Combine(DataDirectory, Mpc.Server.DevelopmentTokens.KeyFileName)) && await Answers())
            {
                return;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("mpc-server did not become ready within 60 s");
    }

    private async Task<bool> Answers()
    {
        try
        {
            using Mpc.Server.DevelopmentTokens tokens = Mpc.Server.DevelopmentTokens.Open(DataDirectory, create: false);
            using var client = new MpcSignerClient(new Uri(Url), tokens.Mint("probe", TimeSpan.FromMinutes(1)), new MpcSignerClientOptions { CallTimeout = TimeSpan.FromSeconds(5) });
            await client.ListKeysAsync();
            return true;
        }
        catch (Exception e) when (e is MpcSignerException or IOException or HttpRequestException or CryptographicException)
        {
            return false;
        }
    }

    private static string MpcDll => ProcessRunner.MpcDll;

    private ProcessResult Cli(params string[] args) => Run("dotnet", [MpcDll, .. args]);

    private static ProcessResult Run(string program, string[] args) =>
        ProcessRunner.Run(program, args, new Dictionary<string, string> { [PassphraseVariable] = Passphrase, ["MPC_WRONG_PASSPHRASE"] = "wrong" });

    /// <summary>The token in a file: the CLI refuses tokens on the command line.</summary>
    private string TokenFile(string token)
    {
        string path = Path.Combine(_root.Path, $"token-{Guid.NewGuid():N}");
        File.WriteAllText(path, token);
        return path;
    }

    public void Dispose()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit();
        }
        _server?.Dispose();
        // xunit shows a test's output when it fails: the servers' own account of what they were doing.
        output.WriteLine("mpc-server output:\n" + _serverLog);
        // The master key directory (data-kek) sits beside the data directory, inside the root.
        _root.Dispose();
    }
}
