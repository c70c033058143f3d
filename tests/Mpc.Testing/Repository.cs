namespace Mpc.Testing;

/// <summary>The repository the tests run from (the directory above the test binaries that holds Mpc.sln): for tests that read its files (docs, deploy/, project files).</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The path of a file or directory of the repository, from its root.</summary>
    public static string PathOf(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (System.IO.File.Exists(System.IO.Path.Combine(directory.FullName, "Mpc.sln")))
            {
                return directory.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No repository root with Mpc.sln above {AppContext.BaseDirectory}");
    }
}
