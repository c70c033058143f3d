using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mpc.Client;
using Mpc.Crypto.Curves;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// The operator's unfreeze is logged for what happened: "unfroze" only after the key is unfrozen, and a "could not
/// unfreeze" line with the reason when the call fails (never an "unfreezes" line before a call that then fails).
/// </summary>
public sealed class UnfreezeLogTests : IAsyncLifetime
{
    private readonly CapturedWarnings _warnings = new();
    private readonly ServerFixture _server;

    public UnfreezeLogTests() =>
        _server = new ServerFixture { ConfigureSilo = silo => silo.Services.AddSingleton(_warnings.Provider()) };

    private IEnumerable<string> Logged(string text) => _warnings.Containing(text);

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_refused_unfreeze_logs_the_failure_and_a_successful_one_logs_after_the_fact()
    {
        const string user = "unfreeze-log";
        string keyId;
        using (MpcSignerClient owner = _server.Client(user))
        using (MpcKey key = await owner.CreateKeyAsync(CurveKind.P256))
        {
            keyId = key.KeyId;
        }

        using (var admin = new MpcSignerClient(_server.Address, _server.AdminToken("ops")))
        {
            MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => admin.UnfreezeKeyAsync(user, keyId));
            Assert.Equal(Grpc.Core.StatusCode.FailedPrecondition, refused.Status);
        }
        Assert.Empty(Logged($"Operator ops unfroze key {keyId}"));
        Assert.Empty(Logged("unfreezes key"));
        string failure = Assert.Single(Logged($"Operator ops could not unfreeze key {keyId}"));
        Assert.Contains("is not frozen", failure, StringComparison.Ordinal);

        await _server.FreezeInStorageAsync(user, keyId);
        using (var admin = new MpcSignerClient(_server.Address, _server.AdminToken("ops")))
        {
            Assert.False((await admin.UnfreezeKeyAsync(user, keyId)).Frozen);
        }
        Assert.Single(Logged($"Operator ops unfroze key {keyId}"));
        Assert.Single(Logged($"Operator ops could not unfreeze key {keyId}"));
    }
}
