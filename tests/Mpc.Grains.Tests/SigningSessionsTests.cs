using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Signing;
using Org.BouncyCastle.Math;

namespace Mpc.Grains.Tests;

/// <summary>
/// A signing session the grain forgets before it finishes (expired, removed, cleared on deactivation or when the
/// key's shares are dropped) is spent: k1 forgotten, the commitment salt zeroed. Without Orleans.
/// </summary>
public sealed class SigningSessionsTests
{
    private const string KeyId = "key-1";
    private const string Device = ClientKeyShare.PrimaryDevice;

    // Sessions that never reach round 4 use only the share's id and curve; its Paillier key is made once.
    private static readonly Lazy<ServerKeyShare> Share = new(() =>
    {
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        BigInteger x1 = curve.RandomScalar();
        PaillierPrivateKey paillier = PaillierPrivateKey.Generate(BigNumBackends.Default);
        return new ServerKeyShare(KeyId, CurveKind.P256, x1, paillier, paillier.PublicKey.Encrypt(x1), curve.MultiplyBase(x1));
    });

    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly SignerOptions _options = new() { SignSessionLifetime = TimeSpan.FromMinutes(10), MaxUnopenedCommitmentsPerDevice = 4 };

    [Fact]
    public async Task An_expired_session_is_spent_when_it_is_purged()
    {
        var sessions = new SigningSessions(_options, _time);
        SignServerSession expired = await Commitment(sessions);
        _time.Now += _options.SignSessionLifetime / 2;
        SignServerSession live = await Commitment(sessions);
        _time.Now += _options.SignSessionLifetime / 2 + TimeSpan.FromSeconds(1);

        sessions.Purge();

        Assert.True(expired.IsSpent);
        Assert.False(live.IsSpent);
        Assert.Equal(1, sessions.Count);
        Assert.Null(sessions.Find(expired.SessionId, KeyId));
    }

    [Fact]
    public async Task Removed_and_cleared_sessions_are_spent_and_a_detached_one_only_when_its_user_disposes_it()
    {
        var sessions = new SigningSessions(_options, _time);
        SignServerSession removed = await Commitment(sessions);
        SignServerSession detached = await Commitment(sessions);
        SignServerSession cleared = await Commitment(sessions);

        Assert.True(sessions.Remove(removed.SessionId));
        Assert.True(removed.IsSpent);
        Assert.False(sessions.Remove(removed.SessionId));

        sessions.Detach(detached.SessionId);
        Assert.Null(sessions.Find(detached.SessionId, KeyId));
        Assert.False(detached.IsSpent);
        detached.Dispose();
        Assert.True(detached.IsSpent);

        Assert.False(cleared.IsSpent);
        sessions.Clear();
        Assert.True(cleared.IsSpent);
        Assert.Equal(0, sessions.Count);
    }

    private static async Task<SignServerSession> Commitment(SigningSessions sessions) =>
        (await sessions.CommitmentFor(KeyId, Device, () => Task.FromResult(new SignServerSession(Share.Value, Device))))!;
}
