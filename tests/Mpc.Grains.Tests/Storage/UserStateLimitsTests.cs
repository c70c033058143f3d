using Mpc.Crypto.Encoding;
using Mpc.Grains;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Grains.Abstractions;
using Orleans.Serialization;

namespace Mpc.Grains.Tests.Storage;

/// <summary>
/// The caps on per-user state keep the user's record far below every storage limit: the worst case they allow,
/// serialized as storage serializes it, is at most half of FileGrainStorage's 1 MiB (docs/service.md, "Limits").
/// </summary>
public sealed class UserStateLimitsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Orleans' serializer, as the grain storage writes records.</summary>
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    /// <summary>
    /// A sealed share of the largest Paillier key the server stores (4096-bit N; new keys use 2048 or 3072 bits):
    /// x1, p, q and c_key (about 1.7 KiB) in the AES-GCM envelope with its wrapped data key. A bound, not a measure.
    /// </summary>
    private const int MaxSealedShareBytes = 2048;

    private const string WideCharacter = "\u20ac"; // three bytes in UTF-8

    [Fact]
    public void The_worst_case_user_record_allowed_by_the_caps_is_at_most_half_the_file_storage_limit()
    {
        var state = new UserKeysState();
        int liveLeft = UserStateLimits.MaxDevicesPerUser;
        int chainLeft = UserStateLimits.MaxChainBytesPerUser;
        for (int k = 0; k < UserStateLimits.MaxKeysPerUser; k++)
        {
            string keyId = Id('k', k);
            var key = new StoredKey
            {
                KeyId = keyId,
                Curve = 3,
                PublicKey = new byte[49],
                CreatedAt = DateTimeOffset.UtcNow,
                FrozenAt = DateTimeOffset.UtcNow,
                FrozenReason = Repeat(UserStateLimits.MaxReasonLength),
                FrozenDevice = Id('d', 0),
            };
            int chainBytes = Math.Min(chainLeft, UserStateLimits.MaxChainBytesPerKey);
            chainLeft -= chainBytes;
            for (int c = 0; c < CertificateChains.MaxCertificates && chainBytes > 0; c++)
            {
                int size = c == CertificateChains.MaxCertificates - 1 ? chainBytes : Math.Min(chainBytes, Math.Max(1, chainBytes / CertificateChains.MaxCertificates));
                key.CertificateChain.Add(new byte[size]);
                chainBytes -= size;
            }
            int live = Math.Min(liveLeft, k == UserStateLimits.MaxKeysPerUser - 1 ? liveLeft : Math.Max(1, Math.Min(UserStateLimits.MaxDevicesPerKey, liveLeft - (UserStateLimits.MaxKeysPerUser - 1 - k))));
            liveLeft -= live;
            for (int d = 0; d < live + UserStateLimits.RememberedRevocationsPerKey; d++)
            {
                bool revoked = d >= live;
                var device = new StoredDevice
                {
                    DeviceId = Id('d', d),
                    Label = Repeat(64),
                    SealedShare = revoked ? [] : new byte[MaxSealedShareBytes],
                    SealPurpose = "server-key-share/" + Id('d', d),
                    ShareId = new byte[32],
                    CreatedAt = DateTimeOffset.UtcNow,
                    RefreshedAt = DateTimeOffset.UtcNow,
                    RevokedAt = revoked ? DateTimeOffset.UtcNow : null,
                    RevokedReason = revoked ? Repeat(UserStateLimits.MaxReasonLength) : null,
                    MustRefresh = !revoked,
                    ReplacedShareIds = revoked ? [] : [.. Enumerable.Range(0, UserStateLimits.RememberedReplacedSharesPerDevice).Select(_ => new byte[32])],
                };
                key.Devices[device.DeviceId] = device;
            }
            state.Keys[keyId] = key;
        }
        Assert.True(liveLeft >= 0);

        int userRecord = Serializer.SerializeToArray(state).Length;
        Assert.InRange(userRecord, UserStateLimits.MaxChainBytesPerUser, WireReader.MaxFieldLength / 2);

        var status = new KeyStatusState();
        foreach (string keyId in state.Keys.Keys)
        {
            status.Keys[keyId] = new KeyStatusEntry
            {
                Status = KeyStatus.Frozen,
                FrozenAt = DateTimeOffset.UtcNow,
                FrozenReason = "final signature check failed",
                FrozenDevice = Id('d', 0),
                Unfreezes = 3,
                PendingCheck = new PendingFinalCheck { CheckId = new string('c', 32), DeviceId = Id('d', 0), Since = DateTimeOffset.UtcNow },
            };
        }
        int statusRecord = Serializer.SerializeToArray(status).Length;
        output.WriteLine($"worst-case user record: {userRecord} bytes; worst-case status record: {statusRecord} bytes");
        Assert.InRange(statusRecord, 1, 16 * 1024);
    }

    [Fact]
    public void Each_cap_refuses_with_ResourceExhausted_and_a_one_line_message()
    {
        var state = new UserKeysState();
        for (int k = 0; k < UserStateLimits.MaxKeysPerUser - 1; k++)
        {
            state.Keys[Id('k', k)] = new StoredKey { KeyId = Id('k', k) };
        }
        UserStateLimits.RequireKeyCapacity(state, inProgress: 0);
        AssertExhausted(() => UserStateLimits.RequireKeyCapacity(state, inProgress: 1), "keys");

        StoredKey first = state.Keys.Values.First();
        for (int d = 0; d < UserStateLimits.MaxDevicesPerUser - 1; d++)
        {
            first.Devices[Id('d', d)] = new StoredDevice { DeviceId = Id('d', d) };
        }
        first.Devices["revoked"] = new StoredDevice { DeviceId = "revoked", RevokedAt = DateTimeOffset.UtcNow };
        UserStateLimits.RequireDeviceCapacity(state);
        first.Devices["one-more"] = new StoredDevice { DeviceId = "one-more" };
        AssertExhausted(() => UserStateLimits.RequireDeviceCapacity(state), "devices");

        first.CertificateChain = [new byte[UserStateLimits.MaxChainBytesPerKey]];
        StoredKey second = state.Keys.Values.Skip(1).First();
        UserStateLimits.RequireChainCapacity(state, second.KeyId, [new byte[UserStateLimits.MaxChainBytesPerUser - UserStateLimits.MaxChainBytesPerKey]]);
        AssertExhausted(() => UserStateLimits.RequireChainCapacity(state, second.KeyId, [new byte[UserStateLimits.MaxChainBytesPerUser - UserStateLimits.MaxChainBytesPerKey + 1]]), "certificate chains");
        // Replacing a key's own chain does not count the old one.
        UserStateLimits.RequireChainCapacity(state, first.KeyId, [new byte[UserStateLimits.MaxChainBytesPerKey]]);
    }

    private static void AssertExhausted(Action call, string names)
    {
        SignerException e = Assert.Throws<SignerException>(call);
        Assert.Equal(SignerErrorKind.ResourceExhausted, e.Kind);
        Assert.Contains(names, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static string Id(char prefix, int n) => (prefix + n.ToString("D4")).PadRight(64, 'x');

    private static string Repeat(int characters) => string.Concat(Enumerable.Repeat(WideCharacter, characters));
}
