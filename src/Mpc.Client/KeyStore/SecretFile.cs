using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Mpc.Client.KeyStore;

/// <summary>
/// Files that hold protected secrets (key files, backups, pending refreshes and enrolments, handovers): written whole
/// or not at all, durably, readable by the owner only.
/// </summary>
public static partial class SecretFile
{
    /// <summary>
    /// Writes a sibling temporary file (created new, owner read/write only on Unix), flushes it to disk (fsync),
    /// renames it over <paramref name="path"/> and flushes the directory, so that once this returns the new file
    /// survives a power cut: callers send a refresh's confirmation right after saving its share. A failure at any step
    /// removes the temporary file and leaves the old file as it was.
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> contents)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException("Path has no directory.", nameof(path));
        string temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        SyncDirectory(directory);
    }

    /// <summary>
    /// Renames <paramref name="source"/> over <paramref name="destination"/> (same directory) and flushes the directory,
    /// so the switch survives a power cut. The source must already be flushed (as <see cref="WriteAtomically"/> leaves it).
    /// </summary>
    public static void Replace(string source, string destination)
    {
        File.Move(source, destination, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
    }

    /// <summary>Deletes <paramref name="path"/> and flushes its directory (a deleted pending file must stay deleted).</summary>
    public static void Delete(string path)
    {
        File.Delete(path);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>
    /// fsync on the directory, which is what makes a rename or a new name durable on Unix file systems (a file's own
    /// fsync does not cover its directory entry). Windows has no directory handle to flush this way; NTFS journals
    /// the rename's metadata itself, so it is skipped there.
    /// </summary>
    internal static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        int descriptor = Native.Open(directory, Native.ReadOnly);
        if (descriptor < 0)
        {
            throw new IOException($"cannot open directory {directory} to flush it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            // EINVAL: this file system cannot sync directories (some network and FUSE mounts); nothing more can be done.
            if (Native.FSync(descriptor) != 0 && Marshal.GetLastPInvokeError() is int error && error != Native.InvalidArgument)
            {
                throw new IOException($"cannot flush directory {directory} (errno {error})");
            }
        }
        finally
        {
            _ = Native.Close(descriptor);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original error matters more.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort: the original error matters more.
        }
    }

    private static class Native
    {
        public const int ReadOnly = 0;
        public const int InvalidArgument = 22;

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int FSync(int descriptor);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int descriptor);
    }
}
