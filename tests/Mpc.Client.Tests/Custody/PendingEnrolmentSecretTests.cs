using System.Security.Cryptography;
using Mpc.Client.Custody;
using Mpc.Crypto.Curves;
using static Mpc.Client.Tests.Custody.CustodyTestData;

namespace Mpc.Client.Tests.Custody;

/// <summary>
/// The pending enrolment in its unprotected form (<see cref="DeviceEnrolmentRequest.ExportSecret"/>), which the browser
/// seals in IndexedDB itself: it keeps the request and its key pair, and is checked as the pending file is.
/// </summary>
public sealed class PendingEnrolmentSecretTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly ManualTime _time = new(Start);

    [Fact]
    public void The_unprotected_pending_enrolment_round_trips_and_opens_the_handover_made_for_it()
    {
        using DeviceEnrolmentRequest created = DeviceEnrolmentRequest.Create("key-0123", _time);
        byte[] secret = created.ExportSecret();
        byte[] share = RandomNumberGenerator.GetBytes(96);
        var identity = new HandoverIdentity("alice@example.com", "key-0123", "alice-laptop", CurveKind.P256, RandomPublicKey(CurveKind.P256));
        SealedHandover sealedHandover = DeviceHandover.Seal(created.Request.ToToken(), created.Request.ConfirmationCode, share, identity, _time);

        using DeviceEnrolmentRequest restored = DeviceEnrolmentRequest.ImportSecret(secret);
        Assert.Equal(created.Request, restored.Request);
        Assert.Equal(Start + DeviceEnrolmentRequest.Lifetime, restored.ExpiresAt);
        using OpenedHandover opened = DeviceHandover.Open(sealedHandover.Text, sealedHandover.HandoverCode, restored, _time);
        Assert.Equal(share, opened.ShareSecret.ToArray());
    }

    [Fact]
    public void A_changed_truncated_or_passphrase_protected_pending_enrolment_is_refused_in_one_line()
    {
        using DeviceEnrolmentRequest created = DeviceEnrolmentRequest.Create("key-0123", _time);
        byte[] secret = created.ExportSecret();

        byte[] otherKey = secret.ToArray();
        otherKey[^1] ^= 0x01;
        MpcSignerException mismatch = Assert.Throws<MpcSignerException>(() => DeviceEnrolmentRequest.ImportSecret(otherKey));
        Assert.Equal(MpcErrorReason.CorruptInput, mismatch.Reason);
        Assert.Equal("pending enrolment is inconsistent: its key pair does not match", mismatch.Message);

        for (int length = 0; length < secret.Length; length += 7)
        {
            MpcSignerException truncated = Assert.Throws<MpcSignerException>(() => DeviceEnrolmentRequest.ImportSecret(secret.AsSpan(0, length)));
            AssertOneLine(truncated);
        }
        MpcSignerException file = Assert.Throws<MpcSignerException>(() => DeviceEnrolmentRequest.ImportSecret(created.ExportPending("passphrase", Cheap)));
        Assert.Equal(MpcErrorReason.WrongKind, file.Reason);
    }
}
