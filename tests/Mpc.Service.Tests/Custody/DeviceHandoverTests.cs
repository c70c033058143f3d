using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Mpc.Client.Custody;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Curves;
using static Mpc.Service.Tests.Custody.CustodyTestData;

namespace Mpc.Service.Tests.Custody;

public sealed class DeviceHandoverTests
{
    private const string Passphrase = "pending passphrase";
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

    private readonly ManualTime _time = new(Start);
    private readonly byte[] _share = RandomNumberGenerator.GetBytes(96);
    private readonly HandoverIdentity _identity = new("alice@example.com", "key-0123", "alice-laptop", CurveKind.Secp256k1, RandomPublicKey(CurveKind.Secp256k1));

    private SealedHandover Seal(DeviceEnrolmentRequest request) =>
        DeviceHandover.Seal(request.Request.ToToken(), _share, _identity, _time);

    private CustodyException Refused(string handover, DeviceEnrolmentRequest pending)
    {
        CustodyException e = Assert.Throws<CustodyException>(() => DeviceHandover.Open(handover, pending, _time).Dispose());
        AssertOneLine(e);
        return e;
    }

    [Fact]
    public void Round_trip_hands_over_the_share_and_identity_with_equal_codes()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        _time.Now += TimeSpan.FromMinutes(3);
        SealedHandover sealedHandover = Seal(request);
        _time.Now += TimeSpan.FromMinutes(3);

        using OpenedHandover opened = DeviceHandover.Open(sealedHandover.Text, request, _time);

        Assert.Equal(_share, opened.ShareSecret.ToArray());
        Assert.Equal(_identity, opened.Identity);
        Assert.Equal(sealedHandover.AuthenticationString, opened.AuthenticationString);
        Assert.Matches(new Regex("^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$"), opened.AuthenticationString);
        Assert.True(DeviceHandover.CodesMatch(opened.AuthenticationString, opened.AuthenticationString.ToLowerInvariant().Replace("-", " ")));
        Assert.False(DeviceHandover.CodesMatch(opened.AuthenticationString, opened.AuthenticationString[..^1] + (opened.AuthenticationString[^1] == 'Z' ? 'Y' : 'Z')));
        Assert.StartsWith("mpc-handover1:", sealedHandover.Text);
        Assert.True(Base64Url.DecodeFromChars(sealedHandover.Text.AsSpan("mpc-handover1:".Length)).AsSpan().IndexOf(_share.AsSpan(0, 32)) < 0);
    }

    [Fact]
    public void Opened_handover_zeroes_its_share_on_dispose()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        OpenedHandover opened = DeviceHandover.Open(Seal(request).Text, request, _time);
        opened.Dispose();
        Assert.Throws<ObjectDisposedException>(() => opened.ShareSecret.Length);
    }

    [Fact]
    public void Token_is_short_and_round_trips()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        string token = request.Request.ToToken();

        Assert.StartsWith("mpc-enrol1:", token);
        Assert.True(token.Length <= 110, $"token has {token.Length} characters");
        Assert.Equal(request.Request, EnrolmentRequest.Parse("  " + token + "\n"));
        Assert.Equal(16, request.Request.RequestId.Length);
        Assert.Equal(Start, request.Request.CreatedAt);
    }

    [Fact]
    public void Handover_for_another_request_is_refused()
    {
        using DeviceEnrolmentRequest mine = DeviceEnrolmentRequest.Create(_time);
        using DeviceEnrolmentRequest other = DeviceEnrolmentRequest.Create(_time);
        string handover = Seal(other).Text;

        CustodyException e = Refused(handover, mine);
        Assert.Equal(CustodyErrorReason.HandoverRejected, e.Reason);
        Assert.Contains("another enrolment request", e.Message);
    }

    [Fact]
    public void Substituted_request_key_with_the_same_request_id_is_refused_and_codes_differ()
    {
        using DeviceEnrolmentRequest victim = DeviceEnrolmentRequest.Create(_time);
        using DeviceEnrolmentRequest attacker = DeviceEnrolmentRequest.Create(_time);
        // The attacker keeps the victim's request id but substitutes its own key in the token the old device sees.
        byte[] attackerToken = new WireWriter()
            .WriteBytes(victim.Request.RequestId)
            .WriteBytes(attacker.Request.PublicKey)
            .WriteTime(Start)
            .ToArray();
        SealedHandover sealedHandover = DeviceHandover.Seal("mpc-enrol1:" + Base64Url.EncodeToString(attackerToken), _share, _identity, _time);

        Assert.Equal(CustodyErrorReason.HandoverRejected, Refused(sealedHandover.Text, victim).Reason);
        Assert.NotEqual(DeviceHandover.AuthenticationString(victim.Request.RequestId, victim.Request.PublicKey, PublicKeyOf(sealedHandover)),
            sealedHandover.AuthenticationString);
    }

    [Fact]
    public void Every_flipped_byte_of_the_handover_is_refused()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        string text = Seal(request).Text;
        byte[] blob = Base64Url.DecodeFromChars(text.AsSpan("mpc-handover1:".Length));
        var reasons = new HashSet<CustodyErrorReason>();
        for (int i = 0; i < blob.Length; i++)
        {
            byte[] edited = blob.ToArray();
            edited[i] ^= 0x04;
            reasons.Add(Refused("mpc-handover1:" + Base64Url.EncodeToString(edited), request).Reason);
        }
        Assert.Contains(CustodyErrorReason.HandoverRejected, reasons);
        Assert.Contains(CustodyErrorReason.Corrupt, reasons);
    }

    [Fact]
    public void Every_truncation_of_the_handover_text_is_refused()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        string text = Seal(request).Text;
        for (int length = 0; length < text.Length; length += 7)
        {
            Refused(text[..length], request);
        }
        Assert.Equal(CustodyErrorReason.Corrupt, Refused(text[..^1], request).Reason);
    }

    [Fact]
    public void Expired_request_is_refused_by_the_sender_and_the_receiver()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        _time.Now = Start + TimeSpan.FromMinutes(14);
        string handover = Seal(request).Text;

        _time.Now = Start + TimeSpan.FromMinutes(16);
        CustodyException sender = Assert.Throws<CustodyException>(() => Seal(request));
        CustodyException receiver = Refused(handover, request);

        Assert.Equal(CustodyErrorReason.Expired, sender.Reason);
        Assert.Equal(CustodyErrorReason.Expired, receiver.Reason);
        Assert.Equal("enrolment request expired: requests last 15 minutes; make a new one on the new device", sender.Message);
    }

    [Fact]
    public void Request_dated_far_in_the_future_is_refused()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        _time.Now = Start - TimeSpan.FromMinutes(10);
        Assert.Equal(CustodyErrorReason.Expired, Assert.Throws<CustodyException>(() => Seal(request)).Reason);
    }

    [Theory]
    [InlineData("", CustodyErrorReason.WrongKind)]
    [InlineData("hello", CustodyErrorReason.WrongKind)]
    [InlineData("mpc-enrol1:", CustodyErrorReason.Corrupt)]
    [InlineData("mpc-enrol1:!!!!", CustodyErrorReason.Corrupt)]
    [InlineData("mpc-enrol1:AAAAEAAAAAAAAAAAAAAAAAAAAAAA", CustodyErrorReason.Corrupt)]
    [InlineData("mpc-enrol2:AAAA", CustodyErrorReason.UnsupportedVersion)]
    [InlineData("mpc-handover1:AAAA", CustodyErrorReason.WrongKind)]
    public void Malformed_request_tokens_give_one_line_errors(string token, CustodyErrorReason reason)
    {
        CustodyException e = Assert.Throws<CustodyException>(() => DeviceHandover.Seal(token, _share, _identity, _time));
        AssertOneLine(e);
        Assert.Equal(reason, e.Reason);
    }

    [Theory]
    [InlineData(0x05)]
    [InlineData(0x04)]
    [InlineData(0x00)]
    public void Request_token_with_a_malformed_point_is_corrupt(byte prefix)
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        byte[] bytes = Base64Url.DecodeFromChars(request.Request.ToToken().AsSpan("mpc-enrol1:".Length));
        bytes[4 + 16 + 4] = prefix; // the SEC1 prefix of the public key
        CustodyException e = Assert.Throws<CustodyException>(() => EnrolmentRequest.Parse("mpc-enrol1:" + Base64Url.EncodeToString(bytes)));
        Assert.Equal(CustodyErrorReason.Corrupt, e.Reason);
    }

    [Fact]
    public void Truncated_request_token_is_corrupt()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        string token = request.Request.ToToken();
        for (int cut = 1; cut < token.Length - "mpc-enrol1:".Length; cut += 5)
        {
            CustodyException e = Assert.Throws<CustodyException>(() => EnrolmentRequest.Parse(token[..^cut]));
            Assert.Equal(CustodyErrorReason.Corrupt, e.Reason);
        }
    }

    [Fact]
    public void Request_token_given_as_handover_is_named()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        CustodyException e = Refused(request.Request.ToToken(), request);
        Assert.Equal(CustodyErrorReason.WrongKind, e.Reason);
        Assert.Equal("this is an enrolment request token, not a device handover", e.Message);
    }

    [Fact]
    public void Pending_enrolment_survives_between_invocations_and_opens_the_handover()
    {
        using DeviceEnrolmentRequest created = DeviceEnrolmentRequest.Create(_time);
        byte[] pendingFile = created.ExportPending(Passphrase, Cheap);
        string token = created.Request.ToToken();
        created.Dispose();

        SealedHandover sealedHandover = DeviceHandover.Seal(token, _share, _identity, _time);
        using DeviceEnrolmentRequest restored = DeviceEnrolmentRequest.ImportPending(pendingFile, Passphrase, Cheap);
        using OpenedHandover opened = DeviceHandover.Open(sealedHandover.Text, restored, _time);

        Assert.Equal(_share, opened.ShareSecret.ToArray());
        Assert.Equal(sealedHandover.AuthenticationString, opened.AuthenticationString);
        Assert.Throws<ObjectDisposedException>(() => created.ExportPending(Passphrase, Cheap));
    }

    [Fact]
    public void Pending_enrolment_needs_its_passphrase_and_is_bound_to_its_header()
    {
        using DeviceEnrolmentRequest created = DeviceEnrolmentRequest.Create(_time);
        byte[] pendingFile = created.ExportPending(Passphrase, Cheap);

        CustodyException wrong = Assert.Throws<CustodyException>(() => DeviceEnrolmentRequest.ImportPending(pendingFile, "guess", Cheap));
        Assert.Equal(CustodyErrorReason.WrongPassphrase, wrong.Reason);
        Assert.Equal("wrong passphrase, or the pending enrolment file was modified", wrong.Message);

        for (int i = 0; i < pendingFile.Length; i++)
        {
            byte[] edited = pendingFile.ToArray();
            edited[i] ^= 0x01;
            Assert.Throws<CustodyException>(() => DeviceEnrolmentRequest.ImportPending(edited, Passphrase, Cheap));
        }
        Assert.Equal(CustodyErrorReason.Downgrade,
            Assert.Throws<CustodyException>(() => DeviceEnrolmentRequest.ImportPending(pendingFile, Passphrase)).Reason);
    }

    [Fact]
    public void A_backup_is_not_a_pending_enrolment()
    {
        var identity = new BackupIdentity("a", "k", "d", CurveKind.P256, RandomPublicKey(CurveKind.P256), Start);
        byte[] backup = ClientShareBackup.Seal(_share, identity, Passphrase, Cheap);
        CustodyException e = Assert.Throws<CustodyException>(() => DeviceEnrolmentRequest.ImportPending(backup, Passphrase, Cheap));
        Assert.Equal("this is a client share backup, not a pending device enrolment", e.Message);
    }

    [Fact]
    public void Destroying_the_pending_file_removes_it()
    {
        using var dir = new Mpc.Service.Tests.KeyStore.TempDirectory();
        string path = dir.File("pending.bin");
        using DeviceEnrolmentRequest created = DeviceEnrolmentRequest.Create(_time);
        File.WriteAllBytes(path, created.ExportPending(Passphrase, Cheap));

        DeviceEnrolmentRequest.DestroyPendingFile(path);

        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Opening_uses_up_the_pending_request_but_a_refused_handover_does_not()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        string handover = Seal(request).Text;
        Refused(handover[..^2], request);

        DeviceHandover.Open(handover, request, _time).Dispose();

        Assert.Throws<ObjectDisposedException>(() => DeviceHandover.Open(handover, request, _time));
        Assert.Throws<ObjectDisposedException>(() => request.ExportPending(Passphrase, Cheap));
    }

    [Fact]
    public void Disposed_request_cannot_open_a_handover()
    {
        DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        string handover = Seal(request).Text;
        request.Dispose();
        Assert.Throws<ObjectDisposedException>(() => DeviceHandover.Open(handover, request, _time));
    }

    [Fact]
    public void Codes_differ_for_different_keys()
    {
        using DeviceEnrolmentRequest a = DeviceEnrolmentRequest.Create(_time);
        Assert.NotEqual(Seal(a).AuthenticationString, Seal(a).AuthenticationString);
    }

    [Fact]
    public void Nothing_secret_in_ToString()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(_time);
        using OpenedHandover opened = DeviceHandover.Open(Seal(request).Text, request, _time);
        Assert.DoesNotContain(Convert.ToHexStringLower(_share[..8]), opened.ToString());
        Assert.DoesNotContain(Convert.ToHexStringLower(_share[..8]), request.ToString());
    }

    private static byte[] PublicKeyOf(SealedHandover sealedHandover)
    {
        byte[] blob = Base64Url.DecodeFromChars(sealedHandover.Text.AsSpan("mpc-handover1:".Length));
        var reader = new WireReader(blob);
        reader.ReadBytes("request id");
        reader.ReadBytes("request public key");
        return reader.ReadByteArray("sender public key");
    }
}
