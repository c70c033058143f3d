using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Mpc.Storage;

/// <summary>
/// A whole file written so that a crash leaves either the previous file or the new one, never a torn one, and so
/// that once a write returns the new file survives a power cut: a sibling temporary file, flushed to disk, put in
/// place by a rename (or, create-only, by a hard link that refuses an existing name), then the directory flushed
/// (<see cref="DirectoryFlush"/>). One source file, linked where <see cref="DirectoryFlush"/> is: the client's key
/// files, the grain state and the key-encryption key, the server's development token key.
/// </summary>
internal static class DurableFile
{
    /// <summary>
    /// Writes <paramref name="contents"/> to <paramref name="path"/>: over an existing file if
    /// <paramref name="overwrite"/>, otherwise only if no file has that name yet. With <paramref name="ownerOnly"/>
    /// the file is created owner read/write only on Unix (the mode is ignored on Windows). A failure at any step
    /// removes the temporary file; one before the rename leaves the previous file as it was. A
    /// <paramref name="flushDirectory"/> replaces <see cref="DirectoryFlush.Flush"/>, for tests that observe when it runs.
    /// </summary>
    /// <returns>False only when create-only found the file already there; it is left as it was.</returns>
    /// <exception cref="IOException">A step failed, the directory flush included (the new file may then be in place but is not yet durable).</exception>
    public static bool Write(string path, ReadOnlySpan<byte> contents, bool overwrite, bool ownerOnly, Action<string>? flushDirectory = null)
    {
        (string fullPath, string directory, string temporary) = Names(path);
        try
        {
            using var stream = new FileStream(temporary, TemporaryOptions(ownerOnly, FileOptions.None));
            stream.Write(contents);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        return Publish(temporary, fullPath, directory, overwrite, flushDirectory ?? DirectoryFlush.Flush);
    }

    /// <summary>The same as <see cref="Write"/>; <paramref name="cancellationToken"/> is honoured until the rename, not after it.</summary>
    public static async Task<bool> WriteAsync(
        string path,
        ReadOnlyMemory<byte> contents,
        bool overwrite,
        bool ownerOnly,
        Action<string>? flushDirectory = null,
        CancellationToken cancellationToken = default)
    {
        (string fullPath, string directory, string temporary) = Names(path);
        try
        {
            var stream = new FileStream(temporary, TemporaryOptions(ownerOnly, FileOptions.Asynchronous));
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(contents, cancellationToken).ConfigureAwait(false);
                // .NET has no asynchronous fsync.
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        // Once renamed, the file is in place: a cancellation must not skip the flush that makes it durable.
        return Publish(temporary, fullPath, directory, overwrite, flushDirectory ?? DirectoryFlush.Flush);
    }

    /// <summary>
    /// Renames <paramref name="source"/> (already flushed) to <paramref name="destination"/> in the same directory only if
    /// no file has that name yet, in one step (link(2), then the source's name removed), and flushes the directory.
    /// </summary>
    /// <returns>False when <paramref name="destination"/> already exists: both files are left as they were.</returns>
    public static bool MoveNew(string source, string destination, Action<string>? flushDirectory = null)
    {
        (string fullPath, string directory, _) = Names(destination);
        bool placed = TryMove(Path.GetFullPath(source), fullPath);
        if (placed)
        {
            (flushDirectory ?? DirectoryFlush.Flush)(directory);
        }
        return placed;
    }

    /// <summary>
    /// Creates <paramref name="directory"/> (owner read/write/search only on Unix) if it does not exist, and then flushes
    /// its parent: the new directory's own name must be as durable as the files about to be written into it. A
    /// <paramref name="flushDirectory"/> replaces <see cref="DirectoryFlush.Flush"/>, as for <see cref="Write"/>.
    /// </summary>
    public static void CreateOwnerOnlyDirectory(string directory, Action<string>? flushDirectory = null)
    {
        if (System.IO.Directory.Exists(directory))
        {
            return;
        }
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        (flushDirectory ?? DirectoryFlush.Flush)(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)))!);
    }

    private static (string FullPath, string Directory, string Temporary) Names(string path)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException("Path has no directory.", nameof(path));
        // Same directory, so the rename or link stays on one file system; hidden and random, so concurrent writers
        // never share one and a listing of the directory does not show it.
        string temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp");
        return (fullPath, directory, temporary);
    }

    private static FileStreamOptions TemporaryOptions(bool ownerOnly, FileOptions fileOptions)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = fileOptions,
            // Unbuffered: the contents are mostly secrets, and a FileStream buffer would be a copy that nobody zeroes.
            BufferSize = 0,
        };
        if (ownerOnly && !OperatingSystem.IsWindows())
        {
            // Set by open(2) itself: a chmod afterwards would leave a moment in which others could open the file.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return options;
    }

    private static bool Publish(string temporary, string fullPath, string directory, bool overwrite, Action<string> flushDirectory)
    {
        bool placed;
        try
        {
            placed = overwrite ? Replace(temporary, fullPath) : TryCreate(temporary, fullPath);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        // Also when another writer created the file first: the caller is about to rely on that file (shares get sealed
        // under the winner's key), and the winner may not have flushed its name yet.
        flushDirectory(directory);
        return placed;
    }

    private static bool Replace(string temporary, string fullPath)
    {
        File.Move(temporary, fullPath, overwrite: true);
        return true;
    }

    private static bool TryCreate(string temporary, string fullPath)
    {
        bool placed = TryMove(temporary, fullPath);
        if (!placed)
        {
            TryDelete(temporary);
        }
        return placed;
    }

    /// <summary>Renames <paramref name="source"/> to <paramref name="fullPath"/> unless that name exists (then false, the source kept).</summary>
    private static bool TryMove(string source, string fullPath)
    {
        if (!OperatingSystem.IsWindows())
        {
            // File.Move(overwrite: false) looks for the target and then renames, and rename(2) replaces silently: two
            // creators could both see no file and both "create" it, the later one replacing a key the earlier one
            // already uses. link(2) fails with EEXIST instead, in one step.
            if (Native.Link(source, fullPath) == 0)
            {
                TryDelete(source);
                return true;
            }
            // A directory of that name is an error, not a winner to read: the File.Move below reports it.
            if (Marshal.GetLastPInvokeError() == Native.AlreadyExists && File.Exists(fullPath))
            {
                return false;
            }
            // No hard links here (FAT, some FUSE and network mounts): the check-then-rename below is all that is left,
            // and it raises the usual exception for any other error.
        }
        // On Windows this is MoveFileEx without MOVEFILE_REPLACE_EXISTING: the check and the rename are one step.
        try
        {
            File.Move(source, fullPath, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(fullPath))
        {
            return false;
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
            // Best effort: the original error matters more than a hidden leftover.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort, as above.
        }
    }

    private static class Native
    {
        // EEXIST is 17 on Linux, macOS and the BSDs.
        public const int AlreadyExists = 17;

        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);
    }
}
