using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Server;

namespace Mpc.Server.Host.Tests;

/// <summary>
/// The server never falls back to the variable-time managed backend on its own: with libcrypto missing it
/// refuses to start unless managed is named (Mpc__BigNum__Backend), and it says at start-up which backend runs.
/// </summary>
public sealed class BigNumBackendStartupTests : IDisposable
{
    private readonly TempDirectory _root = new("mpc-bignum-start-");

    private string DataDirectory => _root.File("data");

    /// <summary>What <see cref="BigNumBackends.Create"/> does on a machine where libcrypto does not load.</summary>
    private static IBigNumBackend WithoutLibCrypto(BigNumBackendKind kind) => kind switch
    {
        BigNumBackendKind.Managed => BigNumBackends.Create(BigNumBackendKind.Managed),
        _ => throw new MpcProtocolException(MpcErrorCode.BackendUnavailable,
            "OpenSSL libcrypto is not usable: none of libcrypto.so.3, libcrypto.so could be loaded"),
    };

    [Theory]
    [InlineData("auto")]
    [InlineData("AUTO")]
    [InlineData("openssl")]
    public void Without_libcrypto_the_server_refuses_to_start_unless_managed_is_named(string setting)
    {
        MpcServerOptions options = Options(setting);

        var e = Assert.Throws<InvalidOperationException>(() => MpcServerHost.Build(options, null, WithoutLibCrypto));

        Assert.Contains("Mpc__BigNum__Backend=managed", e.Message, StringComparison.Ordinal);
        Assert.Contains("libcrypto", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(DataDirectory), "the refusal comes before anything is written");
    }

    [Fact]
    public async Task Without_libcrypto_the_server_starts_on_the_managed_backend_when_it_is_named()
    {
        await using WebApplication app = MpcServerHost.Build(Options("managed"), null, WithoutLibCrypto);
        await app.StartAsync();

        ServerBigNumBackend chosen = app.Services.GetRequiredService<ServerBigNumBackend>();
        Assert.Equal("managed", chosen.Backend.Name);
        Assert.False(chosen.Backend.IsConstantTime);
        Assert.Equal("managed (variable time, named by Mpc__BigNum__Backend)", chosen.Description);
        Assert.Same(chosen.Backend, app.Services.GetRequiredService<IBigNumBackend>());
        await app.StopAsync();
    }

    [Fact]
    public async Task With_libcrypto_the_default_is_the_constant_time_openssl_backend()
    {
        await using WebApplication app = MpcServerHost.Build(Options("auto"));

        ServerBigNumBackend chosen = app.Services.GetRequiredService<ServerBigNumBackend>();
        Assert.Equal("openssl", chosen.Backend.Name);
        Assert.True(chosen.Backend.IsConstantTime);
        Assert.Equal("openssl (constant time)", chosen.Description);
    }

    [Fact]
    public void An_unknown_backend_name_is_refused_with_the_setting_named()
    {
        var e = Assert.Throws<InvalidOperationException>(() => MpcServerHost.Build(Options("gmp")));

        Assert.Equal("Mpc__BigNum__Backend must be 'openssl', 'managed' or 'auto' (was 'gmp').", e.Message);
    }

    [Fact]
    public async Task A_spawned_server_with_managed_named_starts_and_logs_the_variable_time_backend()
    {
        int port = ClusterPorts.Free();
        var start = new ProcessStartInfo("dotnet", [ProcessRunner.ServerDll, "--urls", $"http://127.0.0.1:{port}", "--data", DataDirectory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Mpc__BigNum__Backend"] = "managed";
        using Process server = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var logged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.OutputDataReceived += (_, line) =>
        {
            if (line.Data is { } text)
            {
                output.Enqueue(text);
                if (text.Contains("Big-number backend: managed (variable time, named by Mpc__BigNum__Backend)", StringComparison.Ordinal))
                {
                    logged.TrySetResult();
                }
            }
        };
        server.ErrorDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            Task finished = await Task.WhenAny(logged.Task, server.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(finished == logged.Task, "no backend line in the server's output:\n" + string.Join('\n', output));
            Assert.False(server.HasExited);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }
        }
    }

    [Fact]
    public void A_spawned_server_refuses_an_unknown_backend_with_one_line()
    {
        ProcessResult result = ProcessRunner.Server(new Dictionary<string, string> { ["Mpc__BigNum__Backend"] = "gmp" },
            "--urls", $"http://127.0.0.1:{ClusterPorts.Free()}", "--data", DataDirectory);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("error: Mpc__BigNum__Backend must be 'openssl', 'managed' or 'auto' (was 'gmp').", result.ErrorLine);
    }

    private MpcServerOptions Options(string backend) => new()
    {
        DataDirectory = DataDirectory,
        Urls = "http://127.0.0.1:0",
        BigNum = { Backend = backend },
    };

    public void Dispose()
    {
        // The master key directory (data-kek) sits beside the data directory, inside the root.
        _root.Dispose();
    }
}
