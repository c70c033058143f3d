using System.Runtime.InteropServices;

namespace Mpc.Client.KeyStore;

/// <summary>
/// An exclusive lock on one key file path, held by whatever writes the key file or its side files (<c>FILE.pending</c>,
/// its set-aside copies, the CLI's <c>FILE.unconfirmed</c>) for as long as it works on them: those side files have
/// fixed names, so two writers at once would move or delete each other's share. Every <c>mpc</c> command that writes
/// a key file and <see cref="PendingKeyFile"/> take it, and <c>mpc passphrase --backup</c> takes it on the backup it
/// re-wraps. It is an operating-system lock on <c>FILE.lock</c> (flock on
/// Unix, an exclusive open on Windows), which the system drops when the holder's process ends, however it ends: a
/// killed command never blocks the next one. The lock file itself is kept (it is empty): deleting it would let a third
/// writer lock a new file of that name while a second still holds the old one.
/// </summary>
public sealed class KeyFileLock : IDisposable
{
    private readonly FileStream _lockFile;

    private KeyFileLock(string keyFile, FileStream lockFile)
    {
        KeyFile = keyFile;
        _lockFile = lockFile;
    }

    /// <summary>The key file this lock is for.</summary>
    public string KeyFile { get; }

    /// <summary>The lock file beside <paramref name="keyFile"/>.</summary>
    public static string LockPathOf(string keyFile) => keyFile + ".lock";

    /// <summary>Takes the lock on <paramref name="keyFile"/> now, or fails at once: it never waits.</summary>
    /// <exception cref="MpcSignerException"><see cref="MpcErrorReason.KeyFileInUse"/>: another process, or another holder in this one, has it.</exception>
    /// <exception cref="IOException">The lock file cannot be created or locked (a file system without locks is refused, not trusted).</exception>
    public static KeyFileLock Acquire(string keyFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyFile);
        string lockPath = LockPathOf(keyFile);
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            // On Windows this is the lock itself; on Unix .NET also takes a flock with it, unless file locking is disabled.
            Share = FileShare.None,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(lockPath, options);
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            throw InUse(keyFile, e);
        }
        if (!OperatingSystem.IsWindows())
        {
            // Our own flock, whatever .NET did: it skips its own where file locking is disabled
            // (DOTNET_SYSTEM_IO_DISABLEFILELOCKING) and ignores file systems that refuse it, and a lock that silently is
            // none would let two commands lose a share. On a descriptor that .NET has locked already this is a no-op.
            int descriptor = (int)lockFile.SafeFileHandle.DangerousGetHandle();
            if (Native.Flock(descriptor, Native.LockExclusive | Native.LockNonBlocking) != 0)
            {
                int error = Marshal.GetLastPInvokeError();
                lockFile.Dispose();
                throw error == Native.WouldBlock
                    ? InUse(keyFile, inner: null)
                    : new IOException($"cannot lock {lockPath} (errno {error}): keep key files on a local file system that supports locks");
            }
        }
        return new KeyFileLock(keyFile, lockFile);
    }

    /// <summary>Releases the lock (closing the lock file releases it); the lock file stays.</summary>
    public void Dispose() => _lockFile.Dispose();

    private static MpcSignerException InUse(string keyFile, Exception? inner) =>
        new(MpcErrorReason.KeyFileInUse,
            $"another mpc command (or program) is using {keyFile}: let it finish, then run this again (its lock, {LockPathOf(keyFile)}, is released when it ends, even if it is killed)", inner);

    /// <summary>The open failed only because another handle holds the lock (EWOULDBLOCK on Unix, a sharing violation on Windows).</summary>
    private static bool IsHeldElsewhere(IOException e) => OperatingSystem.IsWindows()
        ? (e.HResult & 0xFFFF) is Native.SharingViolation or Native.LockViolation
        : e.HResult == Native.WouldBlock;

    private static class Native
    {
        public const int LockExclusive = 2;
        public const int LockNonBlocking = 4;
        public const int SharingViolation = 32;
        public const int LockViolation = 33;

        // EWOULDBLOCK (EAGAIN): 11 on Linux, 35 on macOS and the BSDs.
        public static readonly int WouldBlock = OperatingSystem.IsLinux() ? 11 : 35;

        [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Flock(int descriptor, int operation);
    }
}
