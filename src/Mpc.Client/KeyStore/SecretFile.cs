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
    /// survives a power cut: callers send a refresh's confirmation right after saving its share
    /// (<see cref="Mpc.Storage.DurableFile"/>). A failure at any step removes the temporary file; one before the rename
    /// leaves the old file as it was, and a failed directory flush fails the write although the new file is in place.
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> contents) =>
        Mpc.Storage.DurableFile.Write(path, contents, overwrite: true, ownerOnly: true);

    /// <summary>
    /// Writes <paramref name="path"/> as <see cref="WriteAtomically"/> does, but only while no file has that name: the
    /// flushed temporary file takes the name by <see cref="MoveNew"/>'s single step, so a file that appeared after the
    /// caller last looked is never replaced. For a file a command creates (a backup, a pending enrolment, a handover).
    /// </summary>
    /// <returns>False when <paramref name="path"/> exists: it is left as it was, and nothing of <paramref name="contents"/> stays on disk.</returns>
    public static bool WriteNew(string path, ReadOnlySpan<byte> contents) =>
        Mpc.Storage.DurableFile.Write(path, contents, overwrite: false, ownerOnly: true);

    /// <summary>
    /// Renames <paramref name="source"/> over <paramref name="destination"/> (same directory) and flushes the directory,
    /// so the switch survives a power cut. The source must already be flushed (as <see cref="WriteAtomically"/> leaves it).
    /// </summary>
    public static void Replace(string source, string destination)
    {
        File.Move(source, destination, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
    }

    /// <summary>
    /// Renames <paramref name="source"/> to <paramref name="destination"/> (same directory) only if no file has that name
    /// yet, in one step, and flushes the directory. The source must already be flushed.
    /// </summary>
    /// <returns>False when <paramref name="destination"/> exists: both files are left as they were.</returns>
    public static bool MoveNew(string source, string destination) => Mpc.Storage.DurableFile.MoveNew(source, destination);

    /// <summary>Deletes <paramref name="path"/> and flushes its directory (a deleted pending file must stay deleted).</summary>
    public static void Delete(string path)
    {
        File.Delete(path);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Flushes the directory (<see cref="Mpc.Storage.DirectoryFlush"/>): what makes a rename or a new name durable.</summary>
    internal static void SyncDirectory(string directory) => Mpc.Storage.DirectoryFlush.Flush(directory);
}
