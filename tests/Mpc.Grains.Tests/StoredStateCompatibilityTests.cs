using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Orleans.Serialization;

namespace Mpc.Grains.Tests;

/// <summary>
/// Grain state as FileGrainStorage stores it (Orleans' serializer, typed by the state class), written by the code
/// before the grain contracts moved to the Mpc.Grains.Abstractions namespace, still reads back the same: no persisted
/// payload names a contract type (they travel as declared field types or under their [Alias]).
/// </summary>
public sealed class StoredStateCompatibilityTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private readonly Serializer _serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(UserKeysState).Assembly).AddAssembly(typeof(KeySummary).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    // Written by FileGrainStorage's serializer call from the samples below, at commit b0e1667 (contracts still in the
    // Mpc.Grains namespace). Regenerate only for a deliberate change of the stored format.
    private const string UserKeysPayload = "ICABA0FBMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYgwAkBDUEHAgMECQMJIYAAoLt12U7fCIEAAAAAAAAAAOBBASGAAAiA1+FO3wiBAAAAAAAAAADgQTlmaW5hbCBzaWduYXR1cmUgY2hlY2sgZmFpbGVkIQADQQUwAeAhAQNBD3ByaW1hcnkgwC8JAwVBC3Bob25lQQcBAgNBMXNlcnZlci1rZXktc2hhcmUvcHJpbWFyeUEFBAUhgACgu3XZTt8IgQAAAAAAAAAA4MEBwQHBAQEBIQADQQUICeDg4MEvAQMBCeDg4A==";
    private const string StatusPayload = "ICABA0EFazEgCAMJIYAAoLt12U7fCIEAAAAAAAAAAOBBB3doeUEPcHJpbWFyeQEFIUAJMDBmZsEXIYAAoLt12U7fCIEAAAAAAAAAAOBBAwFBAwJBAwNBAwRBAwXg4ODg";
    // The same samples written since keys carry a generation (StoredKey.Generation, KeyStatusEntry.Generation; 0 here):
    // the payloads above plus one field each. The payloads above still read back the same, with generation 0.
    private const string UserKeysPayloadWithGeneration = "ICABA0FBMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYgwAkBDUEHAgMECQMJIYAAoLt12U7fCIEAAAAAAAAAAOBBASGAAAiA1+FO3wiBAAAAAAAAAADgQTlmaW5hbCBzaWduYXR1cmUgY2hlY2sgZmFpbGVkIQADQQUwAeAhAQNBD3ByaW1hcnkgwC8JAwVBC3Bob25lQQcBAgNBMXNlcnZlci1rZXktc2hhcmUvcHJpbWFyeUEFBAUhgACgu3XZTt8IgQAAAAAAAAAA4MEBwQHBAQEBIQADQQUICeDg4MEvAQMBCQEB4ODg";
    private const string StatusPayloadWithGeneration = "ICABA0EFazEgCAMJIYAAoLt12U7fCIEAAAAAAAAAAOBBB3doeUEPcHJpbWFyeQEFIUAJMDBmZsEXIYAAoLt12U7fCIEAAAAAAAAAAOBBAwFBAwJBAwNBAwRBAwXgAQHg4OA=";
    private const string AuditHeadPayload = "IAANQQUBAgEFIQADIQANASAAtPLnxUEJc2lnbkEPcHJpbWFyeUEFAQJBBW9rQQ1kZXRhaWxBAwNBAwRBITwtHg9aS3hph5altMPS4fDg4OA=";
    private const string AuditSegmentPayload = "ICAABSEABQEgALTy58VBCXNpZ25BD3ByaW1hcnlBBQECQQVva0ENZGV0YWlsQQMDQQMEQSE8LR4PWkt4aYeWpbTD0uHw4CAACQEgALTy58XBD8ERQQUBAsEVwRdBAwNBAwRBITwtHg9aS3hph5altMPS4fDg4OA=";

    [Fact]
    public void User_keys_written_before_the_namespace_move_read_back_the_same() =>
        AssertReads(UserKeysPayload, UserKeys());

    [Fact]
    public void Key_status_written_before_the_namespace_move_reads_back_the_same() =>
        AssertReads(StatusPayload, Status());

    [Fact]
    public void Audit_state_written_before_the_namespace_move_reads_back_the_same()
    {
        AssertReads(AuditHeadPayload, AuditHead());
        AssertReads(AuditSegmentPayload, AuditSegment());
    }

    [Fact]
    public void Stored_state_is_written_as_before_apart_from_the_key_generation()
    {
        // Byte for byte: the stored format did not change except for the added generation fields, which code from before
        // them skips as unknown fields (Orleans' version tolerance), so state written now is readable by it too.
        Assert.Equal(UserKeysPayloadWithGeneration, Convert.ToBase64String(_serializer.SerializeToArray(UserKeys())));
        Assert.Equal(StatusPayloadWithGeneration, Convert.ToBase64String(_serializer.SerializeToArray(Status())));
        Assert.Equal(AuditHeadPayload, Convert.ToBase64String(_serializer.SerializeToArray(AuditHead())));
        Assert.Equal(AuditSegmentPayload, Convert.ToBase64String(_serializer.SerializeToArray(AuditSegment())));
    }

    private void AssertReads<T>(string payload, T expected)
        where T : class
    {
        byte[] bytes = Convert.FromBase64String(payload);
        Assert.DoesNotContain("Mpc.Grains", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        T back = _serializer.Deserialize<T>(bytes)!;
        Assert.Equal(Json(expected), Json(back));
    }

    private static UserKeysState UserKeys()
    {
        var users = new UserKeysState();
        var key = new StoredKey
        {
            KeyId = "0123456789abcdef0123456789abcdef", Curve = (int)CurveKind.P384, PublicKey = [2, 3, 4], Status = KeyStatus.Frozen,
            CreatedAt = Created, FrozenAt = Created.AddHours(1), FrozenReason = "final signature check failed", CertificateChain = [[0x30, 1]],
            FrozenDevice = "primary", Imported = true, Unfreezes = 2,
        };
        key.Devices["primary"] = new StoredDevice
        {
            DeviceId = "primary", Kind = DeviceKind.Device, Label = "phone", SealedShare = [1, 2, 3], SealPurpose = "server-key-share/primary",
            ShareId = [4, 5], CreatedAt = Created, ReplacedShareIds = [[8, 9]],
        };
        users.Keys[key.KeyId] = key;
        return users;
    }

    private static KeyStatusState Status()
    {
        var status = new KeyStatusState();
        status.Keys["k1"] = new KeyStatusEntry
        {
            Status = KeyStatus.Frozen, FrozenAt = Created, FrozenReason = "why", FrozenDevice = "primary", Unfreezes = 1,
            PendingCheck = new PendingFinalCheck { CheckId = "00ff", DeviceId = "primary", Since = Created, C3 = [1], R2 = [2], R = [3], Digest = [4], Tag = [5] },
        };
        return status;
    }

    private static AuditEntry Entry(long sequence) => new()
    {
        Sequence = sequence, TimestampUnixMs = 1_700_000_000_000, Event = "sign", DeviceId = "primary", Digest = [1, 2],
        Outcome = AuditOutcomes.Ok, Detail = "detail", PreviousHash = [3], Hash = [4], EventId = new Guid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
    };

    private static AuditHeadState AuditHead() => new() { Count = 3, HeadHash = [1, 2], SealedSegments = 1, Tail = [Entry(3)] };

    private static AuditSegmentState AuditSegment() => new() { Entries = [Entry(1), Entry(2)] };

    private static string Json(object value) => JsonSerializer.Serialize(value, value.GetType());
}
