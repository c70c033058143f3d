using Microsoft.AspNetCore.Builder;
using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>Two embedded servers on one data directory would overwrite each other's grain files: the second must not start.</summary>
public sealed class DataDirectoryLockTests : IDisposable
{
    private readonly TempDirectory _root = new();

    private string DataDirectory => _root.File("data");

    public void Dispose() => _root.Dispose();

    [Fact]
    public void A_second_lock_is_refused_naming_the_directory_and_the_holder()
    {
        Directory.CreateDirectory(DataDirectory);
        using DataDirectoryLock first = DataDirectoryLock.Acquire(DataDirectory);

        var e = Assert.Throws<ServerStartupException>(() => DataDirectoryLock.Acquire(DataDirectory));

        string line = Assert.Single(e.Problems);
        Assert.Contains(DataDirectory, line);
        Assert.Contains($"pid {Environment.ProcessId} on {Environment.MachineName}", line);
        Assert.Contains("--data or Mpc__DataDirectory", line);
        Assert.Equal(ServerStartupReason.InUse, e.Reason);
    }

    [Fact]
    public void Releasing_the_lock_lets_the_next_server_take_it()
    {
        Directory.CreateDirectory(DataDirectory);
        DataDirectoryLock first = DataDirectoryLock.Acquire(DataDirectory);
        first.Dispose();

        using DataDirectoryLock second = DataDirectoryLock.Acquire(DataDirectory);
        Assert.True(File.Exists(Path.Combine(DataDirectory, DataDirectoryLock.FileName)));
    }

    [Fact]
    public async Task An_embedded_server_holds_its_data_directory_until_it_is_disposed()
    {
        WebApplication first = MpcServerHost.Build(Options());
        try
        {
            var e = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(Options()));
            Assert.Contains(Path.GetFullPath(DataDirectory), Assert.Single(e.Problems));
            Assert.Contains($"pid {Environment.ProcessId}", e.Message);
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using WebApplication second = MpcServerHost.Build(Options());
    }

    [Fact]
    public async Task Redis_mode_silos_may_share_a_data_directory()
    {
        // Compose runs its silos on one shared volume: in Redis mode the grain state is not in the directory.
        // Building checks that Redis is durable (RedisDurabilityCheck), so a real one answers.
        using var redis = new Mpc.Testing.RedisProcess(_root.File("redis"));
        Directory.CreateDirectory(redis.Directory);
        await redis.StartAsync();
        await using WebApplication first = MpcServerHost.Build(Options(redis.ConnectionString));
        await using WebApplication second = MpcServerHost.Build(Options(redis.ConnectionString));
        Assert.False(File.Exists(Path.Combine(DataDirectory, DataDirectoryLock.FileName)));
    }

    private MpcServerOptions Options(string? redis = null)
    {
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "http://127.0.0.1:0", Quiet = true };
        if (redis is not null)
        {
            options.Cluster.Mode = ClusterOptions.RedisMode;
            options.Cluster.RedisConnectionString = redis;
            options.Cluster.SiloPort = 1;
            options.Cluster.PlainSiloTraffic = true;
        }
        return options;
    }
}
