using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.KeyGen;

namespace Mpc.Grains.Tests;

/// <summary>The cap and the lifetime of pending key generations (<see cref="KeyGenSessions"/>), without Orleans.</summary>
public sealed class KeyGenSessionsTests
{
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly SignerOptions _options = new() { KeyGenSessionLifetime = TimeSpan.FromMinutes(2) };

    [Fact]
    public void The_ninth_pending_key_generation_is_ResourceExhausted_and_a_finished_one_makes_room()
    {
        var sessions = new KeyGenSessions(_options, _time);
        for (int i = 0; i < KeyGenSessions.MaxPending; i++)
        {
            sessions.Add($"key-{i}", Session($"key-{i}"), CurveKind.P256);
        }
        Assert.Equal(SignerErrorKind.ResourceExhausted, Assert.Throws<SignerException>(sessions.RequireRoom).Kind);
        KeyGenServerSession ninth = Session("key-8");
        Assert.Equal(SignerErrorKind.ResourceExhausted, Assert.Throws<SignerException>(() => sessions.Add("key-8", ninth, CurveKind.P256)).Kind);

        using KeyGenServerSession taken = sessions.Take("key-3").Session;
        sessions.RequireRoom();
        Assert.False(sessions.Contains("key-3"));
        Assert.Equal(SignerErrorKind.NotFound, Assert.Throws<SignerException>(() => sessions.Take("key-3")).Kind);
        sessions.Clear();
    }

    [Fact]
    public void A_key_generation_is_forgotten_after_its_lifetime_and_then_NotFound()
    {
        var sessions = new KeyGenSessions(_options, _time);
        sessions.Add("key-a", Session("key-a"), CurveKind.Secp256k1);
        _time.Now += TimeSpan.FromMinutes(1);
        sessions.Add("key-b", Session("key-b"), CurveKind.P384);

        _time.Now += TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1);

        Assert.Equal(SignerErrorKind.NotFound, Assert.Throws<SignerException>(() => sessions.Take("key-a")).Kind);
        PendingKeyGen b = sessions.Take("key-b");
        Assert.Equal(CurveKind.P384, b.Curve);
        b.Session.Dispose();
        Assert.Equal(0, sessions.Count);
    }

    private static KeyGenServerSession Session(string keyId) => new(keyId, BigNumBackends.Default);
}
