using System.Security.Cryptography;

namespace Mpc.Client.KeyStore;

/// <summary>
/// Files that hold protected secrets (key files, backups, pending enrolments, handovers): written whole or not at
/// all, readable by the owner only.
/// </summary>
public static class SecretFile
{
    /// <summary>
    /// Writes a sibling temporary file (created new, owner read/write only on Unix), flushes it to disk and renames
    /// it over <paramref name="path"/>. A failure at any step removes the temporary file and leaves the old file as it was.
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
}
