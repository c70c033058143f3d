namespace Mpc.Testing;

/// <summary>
/// The one temp-directory helper of the tests: a fresh directory under the system temp folder (named
/// <c>{prefix}XXXXXX</c>, so a leftover tells which test made it), deleted with everything in it on dispose.
/// </summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "mpc-tests-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside this directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>A new subdirectory's path (created), for a data directory beside other files.</summary>
    public string Subdirectory(string name) => Directory.CreateDirectory(File(name)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process the test started may still hold a file for a moment; the temp folder is cleaned by the OS.
        }
    }
}
