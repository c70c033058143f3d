
namespace Mpc.Cli.Tests.Custody;

/// <summary>
/// The device profile through the real `mpc`: made by the first keygen (with its progress line) and reused by the
/// next; refused, in one line with exit code 6 and without touching the server or the file, when it belongs to another
/// device or has a byte flipped; replaced only by `mpc device profile --regenerate`.
/// </summary>
[Collection("server")]
public sealed class DeviceProfileCliTests(ServerFixture server) : IDisposable
{
    private const string User = "device-profile-cli";
    private const string ThisDevice = "device-cli-a";
    private readonly TempDirectory _root = new();

    private string P(string name) => Path.Combine(_root.Path, name);

    private string ProfilePath => P("mpc-device.profile");

    public void Dispose() => _root.Dispose();

    private ProcessResult Mpc(string deviceId, params string[] args) => ProcessRunner.Mpc(new Dictionary<string, string>
    {
        ["MPC_PASSPHRASE"] = "device profile cli passphrase",
        ["MPC_TOKEN"] = server.Token(User),
        ["MPC_DEVICE_ID"] = deviceId,
    }, args);

    private ProcessResult KeyGen(string deviceId, string keyFile, params string[] more) =>
        Mpc(deviceId, ["keygen", "--server", server.Address.ToString(), "--out", P(keyFile), .. more]);

    private static void Succeeded(ProcessResult result) => Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);

    /// <summary>Exit code 6 (a local file) and stderr exactly one "error: ..." line containing every expected part.</summary>
    private static void RefusedLocally(ProcessResult result, params string[] expected)
    {
        Assert.True(result.ExitCode == 6, $"exit {result.ExitCode}: {result.Stderr}");
        string line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        foreach (string part in expected)
        {
            Assert.Contains(part, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_first_keygen_makes_the_profile_the_next_reuses_it_and_a_foreign_or_tampered_one_is_refused_until_regenerated()
    {
        ProcessResult first = KeyGen(ThisDevice, "first.key", "--verbose");
        Succeeded(first);
        Assert.Contains("creating this device's proof parameters (once per device)", first.Stderr);
        Assert.Contains("device setup", first.Stderr);
        Assert.Contains("(profile created", first.Stderr);
        byte[] profile = File.ReadAllBytes(ProfilePath);

        ProcessResult second = KeyGen(ThisDevice, "second.key", "--verbose");
        Succeeded(second);
        Assert.DoesNotContain("creating this device's proof parameters", second.Stderr);
        Assert.Contains("(profile loaded", second.Stderr);
        Assert.Equal(profile, File.ReadAllBytes(ProfilePath));
        // One Argon2id per command: both key files are sealed under the profile's salt (its raw bytes are in its header).
        foreach (string keyFile in new[] { "first.key", "second.key" })
        {
            string salt = (string)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(P(keyFile)))!["kdf"]!["salt"]!;
            Assert.True(profile.AsSpan().IndexOf(Convert.FromBase64String(salt)) >= 0, keyFile);
        }

        // Copied to another device: refused before anything is sent, and the file stays as it was.
        RefusedLocally(KeyGen("device-cli-b", "foreign.key"), "belongs to device device-cli-a", "device-cli-b", "--regenerate");
        Assert.False(File.Exists(P("foreign.key")));
        Assert.Equal(profile, File.ReadAllBytes(ProfilePath));

        // One byte of the sealed part flipped.
        byte[] tampered = (byte[])profile.Clone();
        tampered[^20] ^= 0x01;
        File.WriteAllBytes(ProfilePath, tampered);
        RefusedLocally(KeyGen(ThisDevice, "tampered.key"), ProfilePath, "modified", "--regenerate");
        RefusedLocally(Mpc(ThisDevice, "device", "profile", "--dir", _root.Path), "modified");
        Assert.Equal(tampered, File.ReadAllBytes(ProfilePath));

        ProcessResult regenerated = Mpc(ThisDevice, "device", "profile", "--dir", _root.Path, "--regenerate");
        Succeeded(regenerated);
        byte[] replaced = File.ReadAllBytes(ProfilePath);
        Assert.NotEqual(profile, replaced);
        Assert.NotEqual(tampered, replaced);

        ProcessResult after = KeyGen(ThisDevice, "after.key", "--verbose");
        Succeeded(after);
        Assert.Contains("(profile loaded", after.Stderr);
        ProcessResult shown = Mpc(ThisDevice, "device", "profile", "--dir", _root.Path);
        Succeeded(shown);
        Assert.Contains("Device: device-cli-a", shown.Stdout);
        string fingerprint = regenerated.Stdout.Split('\n').Single(l => l.Contains("fingerprint"));
        Assert.Contains(fingerprint, shown.Stdout);

        // A passphrase change of a key file beside it re-seals the profile under the new passphrase.
        ProcessResult changed = ProcessRunner.Mpc(new Dictionary<string, string>
        {
            ["MPC_OLD_PASSPHRASE"] = "device profile cli passphrase",
            ["MPC_NEW_PASSPHRASE"] = "a new passphrase",
            ["MPC_DEVICE_ID"] = ThisDevice,
        }, "passphrase", "--key", P("after.key"));
        Succeeded(changed);
        Assert.Contains("re-sealed under the new passphrase", changed.Stderr);
        // The share itself is unchanged, so the user is told how to make old copies of the file useless.
        Assert.Contains($"run `mpc refresh --key {P("after.key")}` so they stop working", changed.Stderr);
        RefusedLocally(Mpc(ThisDevice, "device", "profile", "--dir", _root.Path), "passphrase");
        ProcessResult underNew = ProcessRunner.Mpc(new Dictionary<string, string> { ["NEW"] = "a new passphrase", ["MPC_DEVICE_ID"] = ThisDevice },
            "device", "profile", "--dir", _root.Path, "--passphrase-env", "NEW");
        Succeeded(underNew);
        Assert.Contains(fingerprint, underNew.Stdout);
    }
}
