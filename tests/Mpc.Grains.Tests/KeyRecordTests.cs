using Microsoft.Extensions.Logging.Abstractions;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Orleans.Storage;

namespace Mpc.Grains.Tests;

/// <summary><see cref="KeyRecord.CommitAsync"/>, the one write-and-roll-back path, without Orleans.</summary>
public sealed class KeyRecordTests
{
    private readonly FlakyState<UserKeysState> _state = new(new UserKeysState());
    private readonly KeyRecord _record;

    public KeyRecordTests() => _record = new KeyRecord(_state, NullLogger.Instance);

    [Fact]
    public async Task A_new_key_whose_write_fails_is_not_kept_and_the_caller_hears_Internal_with_the_change_message()
    {
        _state.FailWrites = new IOException("disk full");
        SignerException e = await Assert.ThrowsAsync<SignerException>(() => _record.CommitAsync(NewKey("k1")));
        Assert.Equal(SignerErrorKind.Internal, e.Kind);
        Assert.Equal("nothing was kept", e.Message);
        Assert.Null(_record.Find("k1"));

        _state.FailWrites = null;
        StoredKey stored = await _record.CommitAsync(NewKey("k1"));
        Assert.Same(stored, _record.Find("k1"));
        Assert.Equal(1, _state.Writes);
    }

    [Fact]
    public async Task An_edit_whose_write_fails_puts_the_key_back_as_it_was()
    {
        await _record.CommitAsync(NewKey("k1"));
        _state.FailWrites = new TimeoutException();
        await Assert.ThrowsAsync<SignerException>(() => _record.CommitAsync(new KeyChange("k1", key =>
        {
            key!.Devices["primary"].RevokedAt = DateTimeOffset.UnixEpoch;
            key.CertificateChain = [[0x30]];
            return key;
        }, "revocation not stored")));

        StoredKey after = _record.Find("k1")!;
        Assert.False(after.Devices["primary"].Revoked);
        Assert.Empty(after.CertificateChain);
    }

    [Fact]
    public async Task A_change_that_refuses_writes_nothing_and_leaves_the_key_whole()
    {
        await _record.CommitAsync(NewKey("k1"));
        int writes = _state.Writes;
        SignerException e = await Assert.ThrowsAsync<SignerException>(() => _record.CommitAsync(new KeyChange("k1", key =>
        {
            key!.Devices.Clear();
            throw new SignerException(SignerErrorKind.FailedPrecondition, "would have no device left");
        }, "unused")));
        Assert.Equal(SignerErrorKind.FailedPrecondition, e.Kind);
        Assert.Equal(writes, _state.Writes);
        Assert.Single(_record.Find("k1")!.Devices);
    }

    [Fact]
    public async Task A_write_that_meets_a_newer_state_reads_it_and_tells_the_grain_to_drop_its_caches()
    {
        await _record.CommitAsync(NewKey("k1"));
        var newer = new UserKeysState();
        newer.Keys["k2"] = Key("k2");
        _state.StoredByOthers = newer;
        _state.FailWrites = new InconsistentStateException("etag mismatch");
        int reloaded = 0;
        _record.Reloaded += () => reloaded++;

        SignerException e = await Assert.ThrowsAsync<SignerException>(() => _record.CommitAsync(NewKey("k3")));

        Assert.Equal(SignerErrorKind.Internal, e.Kind);
        Assert.Equal(1, reloaded);
        Assert.Equal(["k2"], _record.Keys.Select(k => k.KeyId));
    }

    [Fact]
    public void A_legacy_key_with_its_share_on_the_key_gets_it_as_its_primary_device()
    {
        StoredKey legacy = Key("old");
        legacy.Devices.Clear();
        legacy.SealedShare = [1, 2, 3];
        _state.State.Keys["old"] = legacy;

        _record.MigrateLegacyShares();

        StoredDevice primary = Assert.Single(legacy.Devices.Values);
        Assert.Equal("primary", primary.DeviceId);
        Assert.Equal([1, 2, 3], primary.SealedShare);
        Assert.Equal(KeyRecord.LegacySharePurpose, primary.SealPurpose);
        Assert.Empty(legacy.SealedShare);
    }

    [Fact]
    public void An_unknown_or_malformed_key_id_is_refused_with_its_own_message()
    {
        Assert.Equal(SignerErrorKind.NotFound, Assert.Throws<SignerException>(() => _record.Require("nope")).Kind);
        SignerException malformed = Assert.Throws<SignerException>(() => _record.Require("no spaces"));
        Assert.Equal(SignerErrorKind.InvalidArgument, malformed.Kind);
        Assert.Equal("Key id must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'.", malformed.Message);
    }

    private static KeyChange NewKey(string keyId) => new(keyId, _ => Key(keyId), "nothing was kept");

    private static StoredKey Key(string keyId)
    {
        var key = new StoredKey { KeyId = keyId, Curve = (int)CurveKind.P256, PublicKey = [2, 1], CreatedAt = DateTimeOffset.UnixEpoch };
        key.Devices["primary"] = new StoredDevice { DeviceId = "primary", SealedShare = [9], ShareId = [1] };
        return key;
    }
}
