using System.Globalization;

namespace Mpc.Server;

/// <summary>
/// An exclusive lock on an embedded server's data directory, held for the life of the server: two processes
/// writing one set of grain files would each overwrite the other's state. The lock is <c>&lt;data&gt;/.lock</c>
/// opened with <see cref="FileShare.None"/> (flock on Unix), so the operating system releases it when the process
/// dies, however it dies; a stale file never blocks a restart. Who holds it is written beside it, in
/// <c>.lock.owner</c>, because a file held with FileShare.None cannot be read by the process it keeps out.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = ".lock";
    public const string OwnerFileName = ".lock.owner";

    private readonly FileStream _lock;
    private readonly string _ownerFile;

    private DataDirectoryLock(FileStream held, string ownerFile)
    {
        _lock = held;
        _ownerFile = ownerFile;
    }

    /// <summary>Takes the lock or throws <see cref="ServerStartupException"/> naming the directory and, if known, the holder.</summary>
    public static DataDirectoryLock Acquire(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        string ownerFile = Path.Combine(dataDirectory, OwnerFileName);
        FileStream held;
        try
        {
            held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            string holder = ReadOwner(ownerFile) is { } owner ? $"another server ({owner})" : "another process";
            throw new ServerStartupException(
                $"the data directory {dataDirectory} is in use by {holder}; stop it, or give this server its own directory with --data or Mpc__DataDirectory",
                ServerStartupReason.InUse);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ServerStartupException(
                $"cannot lock the data directory {dataDirectory}: {e.Message.ReplaceLineEndings(" ")}", ServerStartupReason.InUse);
        }
        try
        {
            File.WriteAllText(ownerFile, Describe(Environment.ProcessId));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Naming the holder is a courtesy to the next process: the lock itself is what counts.
        }
        return new DataDirectoryLock(held, ownerFile);
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_ownerFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind it names a process that no longer holds the lock; it is read only while the lock is held.
        }
        _lock.Dispose();
    }

    private static string Describe(int processId) => string.Create(CultureInfo.InvariantCulture,
        $"pid {processId} on {Environment.MachineName}, started {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z");

    private static string? ReadOwner(string ownerFile)
    {
        try
        {
            string text = File.ReadAllText(ownerFile).Trim();
            return text.Length is > 0 and <= 200 && !text.Contains('\n', StringComparison.Ordinal) ? text : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
