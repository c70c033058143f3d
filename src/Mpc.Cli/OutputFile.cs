using Mpc.Storage;

namespace Mpc.Cli;

/// <summary>A public file a command writes for the user at --out (a signature, a CMS).</summary>
internal static class OutputFile
{
    /// <summary>
    /// Writes <paramref name="path"/> through <see cref="DurableFile"/>, replacing a file of that name in one step: a
    /// crash or a full disk leaves the old file or the complete new one, never a signature cut short. A path that
    /// cannot be written is one line naming it, not the temporary file's name the failure reports.
    /// </summary>
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> contents, CancellationToken cancellationToken)
    {
        try
        {
            await DurableFile.WriteAsync(path, contents, overwrite: true, ownerOnly: false, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e switch
            {
                DirectoryNotFoundException => "its directory does not exist",
                UnauthorizedAccessException => "permission denied",
                _ when Directory.Exists(path) => "it is a directory",
                _ => e.Message.TrimEnd('.'),
            };
            throw CliException.LocalInput($"cannot write {path} ({reason}): check --out");
        }
    }
}
