using System.Text.Json;

namespace Mpc.Cli.Tests.CommandLine;

/// <summary>
/// `mpc` is a client: what it loads at run time (mpc.deps.json, written by the build from its real references) holds
/// no server code. The server is the separate `mpc-server` program, which `mpc demo` starts as a child process.
/// </summary>
public sealed class CliDependencyTests
{
    private static readonly string[] Forbidden = ["Orleans", "Microsoft.AspNetCore", "Mpc.Server", "Mpc.Grains", "StackExchange.Redis"];

    [Fact]
    public void The_cli_depends_on_no_server_assembly_or_package()
    {
        using JsonDocument deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "mpc.deps.json")));
        List<string> names = [.. deps.RootElement.GetProperty("libraries").EnumerateObject().Select(library => library.Name.Split('/')[0])];
        Assert.Contains("Mpc.Client", names);
        Assert.DoesNotContain(names, name => Forbidden.Any(f => name.StartsWith(f, StringComparison.OrdinalIgnoreCase)));

        string runtimeConfig = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "mpc.runtimeconfig.json"));
        Assert.DoesNotContain("Microsoft.AspNetCore.App", runtimeConfig, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cli_project_references_only_the_sdk_and_builds_the_server_without_referencing_it()
    {
        string project = File.ReadAllText(Path.Combine(Repository.Root, "src", "Mpc.Cli", "Mpc.Cli.csproj"));
        Assert.DoesNotContain("Include=\"Microsoft.Orleans", project, StringComparison.Ordinal);
        Assert.DoesNotContain("Include=\"Microsoft.AspNetCore", project, StringComparison.Ordinal);
        Assert.DoesNotContain("Mpc.Server/Mpc.Server.csproj", project, StringComparison.Ordinal);
        Assert.DoesNotContain("Microsoft.NET.Sdk.Web", project, StringComparison.Ordinal);
        Assert.Contains("""<ProjectReference Include="../Mpc.Server.Host/Mpc.Server.Host.csproj" ReferenceOutputAssembly="false" """, project, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_without_the_server_program_is_one_line_naming_the_variable()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "mpc-server.dll");
        ProcessResult result = ProcessRunner.Mpc(new Dictionary<string, string> { ["MPC_SERVER_PATH"] = missing }, "demo");

        Assert.Equal(6, result.ExitCode);
        Assert.Equal($"error: MPC_SERVER_PATH names '{missing}', which does not exist: point it at mpc-server.dll or the mpc-server executable", result.ErrorLine);
    }
}
