using System.Diagnostics;
using Mpc.Server;

namespace Mpc.Server.Tests.Hsm;

/// <summary>
/// The PIN file rule on real files laid out as Kubernetes mounts a Secret key: <c>pin -&gt; ..data/pin</c>,
/// <c>..data -&gt; ..2026_11_30_12_00_00.1</c>, the file inside the timestamped directory.
/// </summary>
public sealed class PinFileAccessTests : IDisposable
{
    private const string Pin = "5678";
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    /// <summary>Writes the PIN the way the kubelet's atomic writer does and returns the symlink a pod reads.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static string KubernetesStyleSecret(string directory, string content, UnixFileMode mode)
    {
        string timestamped = Path.Combine(directory, "..2026_11_30_12_00_00.1");
        Directory.CreateDirectory(timestamped);
        string file = Path.Combine(timestamped, "pkcs11-pin");
        File.WriteAllText(file, content);
        File.SetUnixFileMode(file, mode);
        Directory.CreateSymbolicLink(Path.Combine(directory, "..data"), "..2026_11_30_12_00_00.1");
        string link = Path.Combine(directory, "pkcs11-pin");
        File.CreateSymbolicLink(link, Path.Combine("..data", "pkcs11-pin"));
        return link;
    }

    private static UnixFileMode Mode(int octal) => (UnixFileMode)octal;

    [Theory]
    [InlineData(0x120)] // 0440: a Secret with defaultMode 0440 and fsGroup
    [InlineData(0x1A0)] // 0640
    [InlineData(0x180)] // 0600
    [InlineData(0x100)] // 0400
    public void Pin_file_in_the_servers_own_group_is_read_through_the_secret_symlinks(int mode)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string link = KubernetesStyleSecret(_root.Path, Pin + "\n", Mode(mode));
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal(Pin, PinFileAccess.ReadPin(link));
    }

    [Theory]
    [InlineData(0x124, "others")]                  // 0444
    [InlineData(0x1A4, "others")]                  // 0644, Kubernetes' default for a Secret volume
    [InlineData(0x181, "others")]                  // 0601
    [InlineData(0x130, "write or execute")]        // 0460
    [InlineData(0x1B0, "write or execute")]        // 0660
    [InlineData(0x128, "write or execute")]        // 0450
    public void Pin_file_open_to_others_or_writable_by_the_group_is_refused_through_the_symlinks(int mode, string reason)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string link = KubernetesStyleSecret(_root.Path, Pin + "\n", Mode(mode));
        var ex = Assert.Throws<InvalidOperationException>(() => PinFileAccess.ReadPin(link));
        Assert.Contains(reason, ex.Message);
        Assert.Contains("0" + Convert.ToString(mode, 8), ex.Message);
        Assert.Contains(link, ex.Message);
        Assert.Contains("chmod 600", ex.Message);
        Assert.DoesNotContain(Pin, ex.Message.Replace(link, "", StringComparison.Ordinal));
    }

    [Fact]
    public void Group_read_is_refused_when_the_file_belongs_to_a_group_the_server_is_not_in()
    {
        Assert.Null(PinFileAccess.Refusal(Mode(0x120), 10001, [10001]));
        Assert.Null(PinFileAccess.Refusal(Mode(0x120), 10001, [1000, 10001]));
        string? refusal = PinFileAccess.Refusal(Mode(0x120), 4242, [10001]);
        Assert.NotNull(refusal);
        Assert.Contains("group 4242", refusal);
        Assert.NotNull(PinFileAccess.Refusal(Mode(0x120), fileGroup: null, [10001]));
        Assert.Null(PinFileAccess.Refusal(Mode(0x180), fileGroup: null, []));
    }

    [Fact]
    public void Real_file_handed_to_another_group_is_refused()
    {
        // Changing a file's group to one the process is not in needs root (CI runs as root).
        if (OperatingSystem.IsWindows() || Environment.UserName != "root")
        {
            return;
        }
        uint foreign = Enumerable.Range(40000, 100).Select(g => (uint)g).First(g => !PinFileAccess.ProcessGroups().Contains(g));
        string link = KubernetesStyleSecret(_root.Path, Pin + "\n", Mode(0x120));
        using (Process chgrp = Process.Start(new ProcessStartInfo("chgrp", ["-h", foreign.ToString(), Path.Combine(_root.Path, "..2026_11_30_12_00_00.1", "pkcs11-pin")]))!)
        {
            chgrp.WaitForExit();
            Assert.Equal(0, chgrp.ExitCode);
        }
        var ex = Assert.Throws<InvalidOperationException>(() => PinFileAccess.ReadPin(link));
        Assert.Contains($"group {foreign}", ex.Message);
    }

    [Fact]
    public void Missing_and_empty_pin_files_are_named()
    {
        string missing = _root.File("nope");
        Assert.Contains("does not exist", Assert.Throws<InvalidOperationException>(() => PinFileAccess.ReadPin(missing)).Message);
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string link = KubernetesStyleSecret(_root.Path, "\n", Mode(0x120));
        Assert.Contains("is empty", Assert.Throws<InvalidOperationException>(() => PinFileAccess.ReadPin(link)).Message);
    }
}
