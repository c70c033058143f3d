using System.Diagnostics;
using System.Runtime.InteropServices;
using Mpc.Grains.Sealing;

namespace Mpc.Server.Tests.Hsm;

/// <summary>
/// SoftHSM 2 with its own token directory under a temp folder: a softhsm2.conf pointing there, SOFTHSM2_CONF
/// set in the native environment before the library is first loaded (SoftHSM reads it in C_Initialize),
/// and tokens initialised with softhsm2-util. One per test run; every HSM test is in its collection.
/// </summary>
public sealed class SoftHsmFixture : IDisposable
{
    public const string Token = "mpc-test";
    public const string SecondToken = "mpc-test-2";
    public const string PinTestToken = "mpc-pin-test";
    public const string SoPin = "1234";
    public const string Pin = "5678";

    private static readonly string[] LibraryCandidates =
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ];

    private readonly TempDirectory _root = new();

    public SoftHsmFixture()
    {
        LibraryPath = LibraryCandidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "SoftHSM 2 is not installed (no libsofthsm2.so in " + string.Join(", ", LibraryCandidates) + "). " +
                "The HSM tests need it: `.ci/run` installs it (apt-get install softhsm2); locally run `sudo apt-get install softhsm2`.");

        string tokens = Directory.CreateDirectory(_root.File("tokens")).FullName;
        ConfigPath = _root.File("softhsm2.conf");
        File.WriteAllText(ConfigPath, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");

        // .NET keeps its own copy of the environment on Unix: Environment.SetEnvironmentVariable is invisible
        // to getenv() in native code, so SoftHSM would read /etc/softhsm/softhsm2.conf. Set both.
        Environment.SetEnvironmentVariable("SOFTHSM2_CONF", ConfigPath);
        if (!OperatingSystem.IsWindows() && NativeMethods.setenv("SOFTHSM2_CONF", ConfigPath, 1) != 0)
        {
            throw new InvalidOperationException("setenv(SOFTHSM2_CONF) failed.");
        }

        foreach (string label in new[] { Token, SecondToken, PinTestToken })
        {
            InitToken(label);
        }
    }

    public string LibraryPath { get; }

    public string ConfigPath { get; }

    public Pkcs11Options Options(string token = Token, string? keyLabel = null, bool create = true, string pin = Pin) =>
        new(LibraryPath, token, pin) { KeyLabel = keyLabel ?? Pkcs11Options.DefaultKeyLabel, CreateKeyIfMissing = create };

    public void Dispose() => _root.Dispose();

    private void InitToken(string label)
    {
        var start = new ProcessStartInfo("softhsm2-util")
        {
            ArgumentList = { "--init-token", "--free", "--label", label, "--so-pin", SoPin, "--pin", Pin },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["SOFTHSM2_CONF"] = ConfigPath;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException(
                "softhsm2-util is not on PATH. The HSM tests need SoftHSM 2: `.ci/run` installs it (apt-get install softhsm2).", ex);
        }
        using (process)
        {
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"softhsm2-util --init-token {label} failed ({process.ExitCode}): {output}");
            }
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int setenv(
            [MarshalAs(UnmanagedType.LPUTF8Str)] string name,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string value,
            int overwrite);
    }
}

[CollectionDefinition("softhsm")]
public sealed class SoftHsmCollection : ICollectionFixture<SoftHsmFixture>;
