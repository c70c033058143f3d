using System.Diagnostics;
using Mpc.Grains.Sealing;
using Mpc.Server;

namespace Mpc.Server.Host.Tests.Cluster;

/// <summary>
/// A silo that the others declare dead while it is paused learns it when it runs again, and ends with one line and exit
/// code 75 (<see cref="SiloFatalErrorHandler"/>) instead of Orleans' FailFast: a stack trace and 134.
/// </summary>
[Collection("cluster")]
public sealed class DeclaredDeadSiloTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _root = new("mpc-declared-dead-");
    private readonly List<SiloProcess> _silos = [];
    private RedisProcess? _redis;

    [Fact]
    public async Task A_silo_declared_dead_while_paused_ends_with_one_line_and_exit_code_75_and_the_other_keeps_serving()
    {
        Directory.CreateDirectory(_root.File("redis"));
        _redis = new RedisProcess(_root.File("redis"));
        await _redis.StartAsync();
        string data = _root.File("data"), kek = _root.File("kek");
        using (DevelopmentTokens.Open(data, create: true))
        using (var masterKey = new FileKeyEncryptionKeyProvider(kek))
        {
            Assert.NotEmpty(masterKey.KeyId);
        }
        string clusterId = "dead-" + Guid.NewGuid().ToString("N")[..8];
        for (int i = 0; i < 2; i++)
        {
            var silo = new SiloProcess($"silo{i}", data, kek, _redis.ConnectionString, clusterId, PlainSiloTraffic.Environment);
            _silos.Add(silo);
            await silo.StartAsync();
        }
        SiloProcess paused = _silos[1], survivor = _silos[0];

        // Paused, it answers no probe: the survivor declares it dead (Dead, 6) in the membership table within seconds.
        var clock = Stopwatch.StartNew();
        paused.Pause();
        await Poll.UntilAsync(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500), () => _redis!.IsDeclaredDead(paused.SiloPort),
            () => "the paused silo was not declared dead within 60 s: " + _redis!.MembershipEntry(paused.SiloPort));
        output.WriteLine($"declared dead after {clock.Elapsed.TotalSeconds:0} s");

        paused.Resume();
        (int exitCode, string printed) = await paused.WaitForExitAsync(TimeSpan.FromSeconds(120));
        output.WriteLine($"exited with {exitCode} {clock.Elapsed.TotalSeconds:0} s after the pause:\n{printed}");

        Assert.Equal(SiloFatalErrorHandler.ExitCode, exitCode);
        Assert.Single(printed.Split('\n'), line => line.Contains("error: the cluster declared this silo dead; it stops at once", StringComparison.Ordinal));
        Assert.DoesNotContain("FATAL EXCEPTION", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("Current stack", printed, StringComparison.Ordinal);
        Assert.True(await survivor.IsServingAsync(), "the survivor stopped serving");
    }

    public void Dispose()
    {
        foreach (SiloProcess silo in _silos)
        {
            silo.Dispose();
        }
        _redis?.Dispose();
        _root.Dispose();
    }
}
