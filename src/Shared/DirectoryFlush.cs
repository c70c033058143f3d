using System.Runtime.InteropServices;

namespace Mpc.Storage;

/// <summary>
/// fsync of a directory: what makes a rename, a new name or a deletion survive a power cut on Unix file systems. A
/// file's own fsync covers its data and inode, not the directory entry that names it: without this, a key file saved
/// just before a refresh's confirmation, or a freeze the server wrote by rename, could come back as the previous
/// version after a crash of the machine (ext4 commits the entry with its next journal transaction, up to five seconds
/// later). .NET opens no directory handle, hence libc. One source file, linked into the client (key files), the grain
/// layer (grain state, the key-encryption key) and the server (its development token key): the projects below them
/// do no I/O.
/// </summary>
internal static class DirectoryFlush
{
    /// <summary>Flushes <paramref name="directory"/>; a no-op on Windows, where NTFS journals the rename itself.</summary>
    /// <exception cref="IOException">The directory cannot be opened or flushed.</exception>
    public static void Flush(string directory)
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
            // EINVAL: the file system cannot sync directories (some network and FUSE mounts); nothing more can be done there.
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
