using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Mpc.Server;

/// <summary>
/// Who may read the PKCS#11 PIN file, and reading it. The rule is decided on the file itself, never on
/// a symlink in front of it: Kubernetes mounts a Secret key as a symlink (<c>pin -&gt; ..data/pin</c>)
/// whose own mode is always 0777, so the file is opened (following links) and its open handle is
/// examined and read.
/// <list type="bullet">
/// <item>nothing for others: any read, write or execute bit for others is refused;</item>
/// <item>group write or execute is refused;</item>
/// <item>group read is allowed only when the file's group is one the server process runs in (its
/// group or a supplementary group). That is how Kubernetes hands a root-owned Secret to a non-root
/// container: <c>defaultMode: 0440</c> with the pod's <c>fsGroup</c>, which the kubelet makes the file's
/// group and adds to the container's groups. A group the server is not in is refused.</item>
/// </list>
/// 0600 and 0400 are always accepted; the owner bits are not judged (an unreadable file fails to open).
/// </summary>
public static class PinFileAccess
{
    private const UnixFileMode OtherBits = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
    private const UnixFileMode GroupWriteOrExecute = UnixFileMode.GroupWrite | UnixFileMode.GroupExecute;

    /// <summary>
    /// Why a file with this mode and group may not hold the PIN for a process in
    /// <paramref name="processGroups"/>, or null when it may. <paramref name="fileGroup"/> is null where the
    /// platform does not tell the file's group; group read is then refused.
    /// </summary>
    public static string? Refusal(UnixFileMode mode, uint? fileGroup, IReadOnlyCollection<uint> processGroups)
    {
        ArgumentNullException.ThrowIfNull(processGroups);
        string octal = ToOctal(mode);
        if ((mode & OtherBits) != 0)
        {
            return $"its mode {octal} grants access to others";
        }
        if ((mode & GroupWriteOrExecute) != 0)
        {
            return $"its mode {octal} lets the group write or execute it";
        }
        if ((mode & UnixFileMode.GroupRead) != 0)
        {
            if (fileGroup is not { } group)
            {
                return $"its mode {octal} lets the group read it, and this platform does not tell the file's group";
            }
            if (!processGroups.Contains(group))
            {
                return $"its mode {octal} lets group {group} read it, and the server does not run in that group";
            }
        }
        return null;
    }

    /// <summary>
    /// Reads the PIN (one line, trailing newline dropped) from <paramref name="path"/>, following symlinks,
    /// after checking the opened file against <see cref="Refusal"/>. Errors are one line naming the file
    /// and what to do; the PIN itself never appears in them.
    /// </summary>
    public static string ReadPin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"The PKCS#11 PIN file '{path}' does not exist.");
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (!OperatingSystem.IsWindows())
        {
            UnixFileMode mode = File.GetUnixFileMode(stream.SafeFileHandle);
            if (Refusal(mode, FileGroup(stream.SafeFileHandle), ProcessGroups()) is { } reason)
            {
                throw new InvalidOperationException(
                    $"Refusing the PKCS#11 PIN file '{path}': {reason}. Restrict it with `chmod 600 {path}` " +
                    "(or 0440 with the file's group set to the server's group, as Kubernetes does with defaultMode 0440 and fsGroup).");
            }
        }
        using var reader = new StreamReader(stream);
        string pin = reader.ReadToEnd().TrimEnd('\r', '\n');
        if (pin.Length == 0)
        {
            throw new InvalidOperationException($"The PKCS#11 PIN file '{path}' is empty.");
        }
        return pin;
    }

    /// <summary>The process's effective group and its supplementary groups (empty on Windows).</summary>
    public static IReadOnlyCollection<uint> ProcessGroups()
    {
        if (OperatingSystem.IsWindows())
        {
            return [];
        }
        var groups = new HashSet<uint> { Native.GetEffectiveGroupId() };
        int count = Native.GetGroups(0, null);
        if (count > 0)
        {
            var supplementary = new uint[count];
            count = Native.GetGroups(count, supplementary);
            groups.UnionWith(supplementary.Take(Math.Max(count, 0)));
        }
        return groups;
    }

    /// <summary>The group owning the open file, from statx (Linux; its structure is the same on every architecture), else null.</summary>
    private static uint? FileGroup(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int descriptor = checked((int)handle.DangerousGetHandle());
            var buffer = new byte[Native.StatxSize];
            if (Native.Statx(descriptor, "", Native.AtEmptyPath, Native.StatxGid, buffer) != 0)
            {
                return null;
            }
            uint mask = BitConverter.ToUInt32(buffer, Native.StatxMaskOffset);
            return (mask & Native.StatxGid) != 0 ? BitConverter.ToUInt32(buffer, Native.StatxGidOffset) : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null; // a C library without statx (glibc before 2.28): group read is then refused
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static string ToOctal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);

    private static class Native
    {
        public const int AtEmptyPath = 0x1000;
        public const uint StatxGid = 0x10;
        public const int StatxSize = 256;
        public const int StatxMaskOffset = 0;
        public const int StatxGidOffset = 24;

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Statx(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);

        [DllImport("libc", EntryPoint = "getegid")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern uint GetEffectiveGroupId();

        [DllImport("libc", EntryPoint = "getgroups", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int GetGroups(int size, [Out] uint[]? list);
    }
}
