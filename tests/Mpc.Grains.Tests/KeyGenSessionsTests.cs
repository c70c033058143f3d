using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Org.BouncyCastle.Math;

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

    [Fact]
    public void An_unconfirmed_key_holds_its_slot_until_confirmed_and_is_disposed_once_it_expires()
    {
        var sessions = new KeyGenSessions(_options, _time);
        for (int i = 0; i < KeyGenSessions.MaxPending - 1; i++)
        {
            sessions.Add($"key-{i}", Session($"key-{i}"), CurveKind.P256);
        }
        ServerKeyShare first = Share("key-u");
        sessions.AwaitConfirmation("key-u", first);

        Assert.Equal(KeyGenSessions.MaxPending, sessions.Count);
        Assert.True(sessions.Contains("key-u"));
        Assert.Equal(SignerErrorKind.ResourceExhausted, Assert.Throws<SignerException>(sessions.RequireRoom).Kind);
        // Not a session that could be completed a second time.
        Assert.Equal(SignerErrorKind.NotFound, Assert.Throws<SignerException>(() => sessions.Take("key-u")).Kind);
        Assert.Same(first, sessions.TakeUnconfirmed("key-u"));
        Assert.Equal(SignerErrorKind.NotFound, Assert.Throws<SignerException>(() => sessions.TakeUnconfirmed("key-u")).Kind);
        sessions.RequireRoom();
        first.Dispose();

        // Its lifetime counts from the completion, not from the begin of the key generation.
        _time.Now += TimeSpan.FromMinutes(1);
        ServerKeyShare second = Share("key-v");
        sessions.AwaitConfirmation("key-v", second);
        _time.Now += TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1);
        Assert.True(sessions.Contains("key-v"));
        _time.Now += TimeSpan.FromMinutes(1);

        Assert.Equal(SignerErrorKind.NotFound, Assert.Throws<SignerException>(() => sessions.TakeUnconfirmed("key-v")).Kind);
        Assert.Equal(0, sessions.Count);
        Assert.Throws<ObjectDisposedException>(() => second.X1);
    }

    [Fact]
    public void At_most_two_keys_await_confirmation_and_a_confirmed_one_makes_room()
    {
        var sessions = new KeyGenSessions(_options, _time);
        sessions.RequireConfirmationRoom();
        sessions.AwaitConfirmation("key-a", Share("key-a"));
        sessions.RequireConfirmationRoom();
        sessions.AwaitConfirmation("key-b", Share("key-b"));

        SignerException full = Assert.Throws<SignerException>(sessions.RequireConfirmationRoom);
        Assert.Equal(SignerErrorKind.ResourceExhausted, full.Kind);
        Assert.Equal(KeyGenSessions.ConfirmationRoomRetry, full.RetryAfter);
        // Pending key generations are not held up by them below the overall cap.
        sessions.Add("key-c", Session("key-c"), CurveKind.P256);
        sessions.TakeUnconfirmed("key-a").Dispose();
        sessions.RequireConfirmationRoom();
        sessions.Clear();
    }

    [Fact]
    public void Clearing_disposes_unconfirmed_keys_too()
    {
        var sessions = new KeyGenSessions(_options, _time);
        ServerKeyShare share = Share("key-c");
        sessions.AwaitConfirmation("key-c", share);
        sessions.Clear();
        Assert.Equal(0, sessions.Count);
        Assert.Throws<ObjectDisposedException>(() => share.X1);
    }

    private static KeyGenServerSession Session(string keyId) => new(keyId, BigNumBackends.Default);

    // One Paillier key for every share of these tests (disposing a share clears only its copy's x1 and the key's
    // secrets, which no test reads again): a 2048-bit key takes a second or two to make.
    private static readonly Lazy<PaillierPrivateKey> Paillier = new(() => PaillierPrivateKey.Generate(BigNumBackends.Default));

    private static ServerKeyShare Share(string keyId)
    {
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        BigInteger x1 = curve.RandomScalar();
        PaillierPrivateKey paillier = Paillier.Value;
        return new ServerKeyShare(keyId, CurveKind.P256, x1, paillier, paillier.PublicKey.Encrypt(x1), curve.MultiplyBase(x1));
    }
}
