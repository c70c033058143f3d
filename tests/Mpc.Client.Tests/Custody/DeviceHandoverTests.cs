using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Mpc.Client.Custody;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Curves;
using static Mpc.Client.Tests.Custody.CustodyTestData;
using Mpc.Client;

namespace Mpc.Client.Tests.Custody;

public sealed class DeviceHandoverTests
{
    private const string Passphrase = "pending passphrase";
    private const string KeyId = "key-0123";
    private const string Prefix = "mpc-handover3:";
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

    private readonly ManualTime _time = new(Start);
    private readonly byte[] _share = RandomNumberGenerator.GetBytes(96);
    private readonly HandoverIdentity _identity = new("alice@example.com", KeyId, "alice-laptop", CurveKind.Secp256k1, RandomPublicKey(CurveKind.Secp256k1));

    private DeviceEnrolmentRequest NewRequest() => DeviceEnrolmentRequest.Create(KeyId, _time);

    private SealedHandover Seal(DeviceEnrolmentRequest request) =>
        DeviceHandover.Seal(request.Request.ToToken(), request.Request.ConfirmationCode, _share, _identity, _time);

    private OpenedHandover Open(SealedHandover handover, DeviceEnrolmentRequest pending) =>
        DeviceHandover.Open(handover.Text, handover.HandoverCode, pending, _time);

    private MpcSignerException Refused(string handover, string code, DeviceEnrolmentRequest pending)
    {
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => DeviceHandover.Open(handover, code, pending, _time).Dispose());
        AssertOneLine(e);
        return e;
    }

    private static string Token(byte[] requestId, byte[] publicKey, string keyId, DateTimeOffset createdAt) =>
        "mpc-enrol2:" + Base64Url.EncodeToString(new WireWriter().WriteBytes(requestId).WriteBytes(publicKey).WriteString(keyId)
            .WriteTime(createdAt).ToArray());

    [Fact]
    public void Round_trip_hands_over_the_share_and_identity_after_the_code_is_confirmed()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        string code = request.Request.ConfirmationCode;
        _time.Now += TimeSpan.FromMinutes(3);
        SealedHandover sealedHandover = DeviceHandover.Seal(request.Request.ToToken(), code.ToLowerInvariant().Replace("-", " "), _share, _identity, _time);
        _time.Now += TimeSpan.FromMinutes(3);

        using OpenedHandover opened = DeviceHandover.Open(sealedHandover.Text, sealedHandover.HandoverCode.ToLowerInvariant().Replace("-", " "), request, _time);

        Assert.Equal(_share, opened.ShareSecret.ToArray());
        Assert.Equal(_identity, opened.Identity);
        Assert.Matches(new Regex("^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$"), sealedHandover.HandoverCode);
        Assert.NotEqual(code, sealedHandover.HandoverCode);
        Assert.Equal(request.Request.RequestId, sealedHandover.Request.RequestId);
        Assert.Matches(new Regex("^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$"), code);
        Assert.False(ConfirmationCode.Matches(code, code[..^1] + (code[^1] == 'Z' ? 'Y' : 'Z')));
        Assert.StartsWith(Prefix, sealedHandover.Text);
        Assert.True(Base64Url.DecodeFromChars(sealedHandover.Text.AsSpan(Prefix.Length)).AsSpan().IndexOf(_share.AsSpan(0, 32)) < 0);
    }

    [Fact]
    public void The_code_is_a_function_of_request_id_public_key_and_key_id_only()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        EnrolmentRequest r = request.Request;
        Assert.Equal(r.ConfirmationCode, EnrolmentRequest.Parse(r.ToToken()).ConfirmationCode);
        Assert.Equal(r.ConfirmationCode, EnrolmentRequest.Parse(Token(r.RequestId, r.PublicKey, KeyId, Start.AddMinutes(1))).ConfirmationCode);
        Assert.NotEqual(r.ConfirmationCode, EnrolmentRequest.Parse(Token(r.RequestId, r.PublicKey, "key-0124", Start)).ConfirmationCode);
        using DeviceEnrolmentRequest other = NewRequest();
        Assert.NotEqual(r.ConfirmationCode, other.Request.ConfirmationCode);
        Assert.NotEqual(r.ConfirmationCode, EnrolmentRequest.Parse(Token(r.RequestId, other.Request.PublicKey, KeyId, Start)).ConfirmationCode);
        Assert.NotEqual(r.ConfirmationCode, EnrolmentRequest.Parse(Token(other.Request.RequestId, r.PublicKey, KeyId, Start)).ConfirmationCode);
    }

    [Fact]
    public void A_substituted_request_token_gets_nothing_sealed_because_the_typed_code_is_the_genuine_requests()
    {
        using DeviceEnrolmentRequest victim = NewRequest();
        using DeviceEnrolmentRequest attacker = NewRequest();
        string shownOnTheNewDevice = victim.Request.ConfirmationCode;
        // Whoever carries the token swaps in its own request: a fresh one, and one that keeps the victim's request id.
        string[] substitutes =
        [
            attacker.Request.ToToken(),
            Token(victim.Request.RequestId, attacker.Request.PublicKey, KeyId, Start),
        ];
        foreach (string substitute in substitutes)
        {
            MpcSignerException e = Assert.Throws<MpcSignerException>(() => DeviceHandover.Seal(substitute, shownOnTheNewDevice, _share, _identity, _time));
            Assert.Equal(MpcErrorReason.CodeMismatch, e.Reason);
            AssertOneLine(e);
            Assert.Contains("nothing was sealed", e.Message);
            // The refusal never reveals the code the substitute would need.
            Assert.DoesNotContain(EnrolmentRequest.Parse(substitute).ConfirmationCode, e.Message);
            Assert.DoesNotContain(EnrolmentRequest.Parse(substitute).ConfirmationCode.Replace("-", ""), e.Message.Replace("-", ""));
        }
        // The genuine token with the same typed code is sealed, and only the victim's device opens it.
        SealedHandover genuine = DeviceHandover.Seal(victim.Request.ToToken(), shownOnTheNewDevice, _share, _identity, _time);
        Assert.Equal(MpcErrorReason.HandoverRejected, Refused(genuine.Text, genuine.HandoverCode, attacker).Reason);
        using OpenedHandover opened = Open(genuine, victim);
        Assert.Equal(_share, opened.ShareSecret.ToArray());
    }

    [Fact]
    public void A_mistyped_handover_code_is_refused_and_the_request_still_opens_the_handover_with_the_right_code()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        SealedHandover sealedHandover = Seal(request);
        string code = sealedHandover.HandoverCode;
        string mistyped = code[..^1] + (code[^1] == 'Z' ? 'Y' : 'Z');

        foreach (string typed in new[] { mistyped, "", "   ", code[..^1] })
        {
            MpcSignerException e = Refused(sealedHandover.Text, typed, request);
            Assert.Equal(MpcErrorReason.CodeMismatch, e.Reason);
            Assert.Contains("nothing was opened", e.Message);
            Assert.Contains("this enrolment request still waits for the genuine handover", e.Message);
            Assert.DoesNotContain(code.Replace("-", ""), e.Message.Replace("-", ""));
        }

        using OpenedHandover opened = Open(sealedHandover, request);
        Assert.Equal(_share, opened.ShareSecret.ToArray());
    }

    [Fact]
    public void A_code_from_another_handover_or_the_requests_own_code_does_not_open_a_handover()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        // Two handovers to one request (two existing devices, or one sealing twice): each has its own sender key, so its own code.
        SealedHandover first = Seal(request);
        SealedHandover second = Seal(request);
        Assert.NotEqual(first.HandoverCode, second.HandoverCode);

        Assert.Equal(MpcErrorReason.CodeMismatch, Refused(second.Text, first.HandoverCode, request).Reason);
        Assert.Equal(MpcErrorReason.CodeMismatch, Refused(first.Text, second.HandoverCode, request).Reason);
        // The two directions' codes are in different domains: the code the new device showed never opens anything.
        Assert.Equal(MpcErrorReason.CodeMismatch, Refused(first.Text, request.Request.ConfirmationCode, request).Reason);

        using OpenedHandover opened = Open(second, request);
        Assert.Equal(_share, opened.ShareSecret.ToArray());
    }

    [Fact]
    public void A_version_2_handover_which_came_without_a_code_is_refused_as_unsupported()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        SealedHandover sealedHandover = Seal(request);
        string older = "mpc-handover2:" + sealedHandover.Text[Prefix.Length..];

        MpcSignerException e = Refused(older, sealedHandover.HandoverCode, request);

        Assert.Equal(MpcErrorReason.UnsupportedVersion, e.Reason);
        Assert.Equal("a device handover of a version this client does not support", e.Message);
    }

    [Fact]
    public void A_request_for_another_key_is_refused_even_with_its_right_code()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create("key-9999", _time);
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => Seal(request));
        Assert.Equal(MpcErrorReason.WrongKey, e.Reason);
        Assert.Equal("the request asks for key key-9999, not key key-0123; nothing was sealed", e.Message);
    }

    [Fact]
    public void A_forged_handover_of_another_key_to_the_genuine_request_is_rejected_and_uses_the_request_up()
    {
        using DeviceEnrolmentRequest victim = NewRequest();
        // The token is public: an attacker can seal its own key's share to the victim's request key, renaming the key.
        string forgedToken = Token(victim.Request.RequestId, victim.Request.PublicKey, "attacker-key", Start);
        var attackerIdentity = _identity with { KeyId = "attacker-key" };
        SealedHandover forged = DeviceHandover.Seal(forgedToken, EnrolmentRequest.Parse(forgedToken).ConfirmationCode, _share, attackerIdentity, _time);

        MpcSignerException e = Refused(forged.Text, forged.HandoverCode, victim);

        Assert.Equal(MpcErrorReason.HandoverRejected, e.Reason);
        Assert.Contains("not the requested key key-0123", e.Message);
        Assert.Throws<ObjectDisposedException>(() => victim.ExportPending(Passphrase, Cheap));
    }

    [Fact]
    public void Opened_handover_zeroes_its_share_on_dispose()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        OpenedHandover opened = Open(Seal(request), request);
        opened.Dispose();
        Assert.Throws<ObjectDisposedException>(() => opened.ShareSecret.Length);
    }

    [Fact]
    public void A_share_that_does_not_parse_is_rejected_on_import()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        using OpenedHandover opened = Open(Seal(request), request);
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => opened.ImportShare());
        Assert.Equal(MpcErrorReason.HandoverRejected, e.Reason);
    }

    [Fact]
    public void Token_is_short_and_round_trips()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        string token = request.Request.ToToken();

        Assert.StartsWith("mpc-enrol2:", token);
        Assert.True(token.Length <= 130, $"token has {token.Length} characters");
        Assert.Equal(request.Request, EnrolmentRequest.Parse("  " + token + "\n"));
        Assert.Equal(16, request.Request.RequestId.Length);
        Assert.Equal(KeyId, request.Request.KeyId);
        Assert.Equal(Start, request.Request.CreatedAt);
    }

    [Fact]
    public void Handover_for_another_request_is_refused_and_the_request_is_used_up()
    {
        using DeviceEnrolmentRequest mine = NewRequest();
        using DeviceEnrolmentRequest other = NewRequest();
        SealedHandover handover = Seal(other);

        MpcSignerException e = Refused(handover.Text, handover.HandoverCode, mine);
        Assert.Equal(MpcErrorReason.HandoverRejected, e.Reason);
        Assert.Contains("another enrolment request", e.Message);
        Assert.Contains("make a new one", e.Message);
        Assert.Throws<ObjectDisposedException>(() => Open(Seal(mine), mine));
    }

    [Fact]
    public void Every_flipped_byte_of_the_handover_is_refused()
    {
        using DeviceEnrolmentRequest created = NewRequest();
        byte[] pendingFile = created.ExportPending(Passphrase, Cheap);
        SealedHandover sealedHandover = Seal(created);
        byte[] blob = Base64Url.DecodeFromChars(sealedHandover.Text.AsSpan(Prefix.Length));
        var reasons = new HashSet<MpcErrorReason>();
        for (int i = 0; i < blob.Length; i++)
        {
            byte[] edited = blob.ToArray();
            edited[i] ^= 0x04;
            // A rejection uses the pending request up, so each attempt opens a fresh copy of the pending file.
            using DeviceEnrolmentRequest pending = DeviceEnrolmentRequest.ImportPending(pendingFile, Passphrase, Cheap);
            reasons.Add(Refused(Prefix + Base64Url.EncodeToString(edited), sealedHandover.HandoverCode, pending).Reason);
        }
        // The code covers every field in clear (CodeMismatch), the GCM tag the ciphertext (HandoverRejected).
        MpcErrorReason[] expected = [MpcErrorReason.CodeMismatch, MpcErrorReason.CorruptInput, MpcErrorReason.HandoverRejected];
        Assert.Equal(expected.Order(), reasons.Order());
    }

    [Fact]
    public void Every_truncation_of_the_handover_text_is_refused_as_damaged_and_keeps_the_request()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        SealedHandover sealedHandover = Seal(request);
        string text = sealedHandover.Text;
        for (int length = 0; length < text.Length; length += 7)
        {
            Refused(text[..length], sealedHandover.HandoverCode, request);
        }
        Assert.Equal(MpcErrorReason.CorruptInput, Refused(text[..^1], sealedHandover.HandoverCode, request).Reason);
        Open(sealedHandover, request).Dispose();
    }

    [Fact]
    public void Expired_request_is_refused_by_the_sender_and_the_receiver()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        _time.Now = Start + TimeSpan.FromMinutes(14);
        SealedHandover handover = Seal(request);

        _time.Now = Start + TimeSpan.FromMinutes(16);
        MpcSignerException sender = Assert.Throws<MpcSignerException>(() => Seal(request));
        MpcSignerException receiver = Refused(handover.Text, handover.HandoverCode, request);

        Assert.Equal(MpcErrorReason.Expired, sender.Reason);
        Assert.Equal(MpcErrorReason.Expired, receiver.Reason);
        Assert.Equal("enrolment request expired: requests last 15 minutes; make a new one on the new device", sender.Message);
    }

    [Fact]
    public void Request_dated_far_in_the_future_is_refused()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        _time.Now = Start - TimeSpan.FromMinutes(10);
        Assert.Equal(MpcErrorReason.Expired, Assert.Throws<MpcSignerException>(() => Seal(request)).Reason);
    }

    [Theory]
    [InlineData("", MpcErrorReason.WrongKind)]
    [InlineData("hello", MpcErrorReason.WrongKind)]
    [InlineData("mpc-enrol2:", MpcErrorReason.CorruptInput)]
    [InlineData("mpc-enrol2:!!!!", MpcErrorReason.CorruptInput)]
    [InlineData("mpc-enrol2:AAAAEAAAAAAAAAAAAAAAAAAAAAAA", MpcErrorReason.CorruptInput)]
    [InlineData("mpc-enrol1:AAAA", MpcErrorReason.UnsupportedVersion)]
    [InlineData("mpc-enrol3:AAAA", MpcErrorReason.UnsupportedVersion)]
    [InlineData("mpc-handover3:AAAA", MpcErrorReason.WrongKind)]
    public void Malformed_request_tokens_give_one_line_errors(string token, MpcErrorReason reason)
    {
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => DeviceHandover.Seal(token, "0000-0000-0000-0000", _share, _identity, _time));
        AssertOneLine(e);
        Assert.Equal(reason, e.Reason);
    }

    [Theory]
    [InlineData(0x05)]
    [InlineData(0x04)]
    [InlineData(0x00)]
    public void Request_token_with_a_malformed_point_is_corrupt(byte prefix)
    {
        using DeviceEnrolmentRequest request = NewRequest();
        byte[] bytes = Base64Url.DecodeFromChars(request.Request.ToToken().AsSpan("mpc-enrol2:".Length));
        bytes[4 + 16 + 4] = prefix; // the SEC1 prefix of the public key
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => EnrolmentRequest.Parse("mpc-enrol2:" + Base64Url.EncodeToString(bytes)));
        Assert.Equal(MpcErrorReason.CorruptInput, e.Reason);
    }

    [Fact]
    public void Truncated_request_token_is_corrupt()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        string token = request.Request.ToToken();
        for (int cut = 1; cut < token.Length - "mpc-enrol2:".Length; cut += 5)
        {
            MpcSignerException e = Assert.Throws<MpcSignerException>(() => EnrolmentRequest.Parse(token[..^cut]));
            Assert.Equal(MpcErrorReason.CorruptInput, e.Reason);
        }
    }

    [Fact]
    public void Request_token_given_as_handover_is_named()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        MpcSignerException e = Refused(request.Request.ToToken(), "0000-0000-0000-0000", request);
        Assert.Equal(MpcErrorReason.WrongKind, e.Reason);
        Assert.Equal("this is an enrolment request token, not a device handover", e.Message);
    }

    [Fact]
    public void Pending_enrolment_survives_between_invocations_and_opens_the_handover()
    {
        using DeviceEnrolmentRequest created = NewRequest();
        byte[] pendingFile = created.ExportPending(Passphrase, Cheap);
        string token = created.Request.ToToken();
        string code = created.Request.ConfirmationCode;
        created.Dispose();

        SealedHandover sealedHandover = DeviceHandover.Seal(token, code, _share, _identity, _time);
        using DeviceEnrolmentRequest restored = DeviceEnrolmentRequest.ImportPending(pendingFile, Passphrase, Cheap);
        Assert.Equal(code, restored.Request.ConfirmationCode);
        using OpenedHandover opened = Open(sealedHandover, restored);

        Assert.Equal(_share, opened.ShareSecret.ToArray());
        Assert.Throws<ObjectDisposedException>(() => created.ExportPending(Passphrase, Cheap));
    }

    [Fact]
    public void Pending_enrolment_needs_its_passphrase_and_is_bound_to_its_header()
    {
        using DeviceEnrolmentRequest created = NewRequest();
        byte[] pendingFile = created.ExportPending(Passphrase, Cheap);

        MpcSignerException wrong = Assert.Throws<MpcSignerException>(() => DeviceEnrolmentRequest.ImportPending(pendingFile, "guess", Cheap));
        Assert.Equal(MpcErrorReason.WrongPassphrase, wrong.Reason);
        Assert.Equal("wrong passphrase, or the pending enrolment file was modified", wrong.Message);

        for (int i = 0; i < pendingFile.Length; i++)
        {
            byte[] edited = pendingFile.ToArray();
            edited[i] ^= 0x01;
            Assert.Throws<MpcSignerException>(() => DeviceEnrolmentRequest.ImportPending(edited, Passphrase, Cheap));
        }
        Assert.Equal(MpcErrorReason.KdfDowngrade,
            Assert.Throws<MpcSignerException>(() => DeviceEnrolmentRequest.ImportPending(pendingFile, Passphrase)).Reason);
    }

    [Fact]
    public void A_backup_is_not_a_pending_enrolment()
    {
        var identity = new BackupIdentity("a", "k", "d", CurveKind.P256, RandomPublicKey(CurveKind.P256), Start);
        byte[] backup = ClientShareBackup.Seal(_share, identity, Passphrase, Cheap);
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => DeviceEnrolmentRequest.ImportPending(backup, Passphrase, Cheap));
        Assert.Equal("this is a client share backup, not a pending device enrolment", e.Message);
    }

    [Fact]
    public void Destroying_the_pending_file_removes_it()
    {
        using var dir = new TempDirectory();
        string path = dir.File("pending.bin");
        using DeviceEnrolmentRequest created = NewRequest();
        File.WriteAllBytes(path, created.ExportPending(Passphrase, Cheap));

        DeviceEnrolmentRequest.DestroyPendingFile(path);

        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Opening_uses_up_the_pending_request_but_a_damaged_copy_does_not()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        SealedHandover handover = Seal(request);
        Assert.Equal(MpcErrorReason.CorruptInput, Refused(handover.Text[..^2], handover.HandoverCode, request).Reason);

        Open(handover, request).Dispose();

        Assert.Throws<ObjectDisposedException>(() => Open(handover, request));
        Assert.Throws<ObjectDisposedException>(() => request.ExportPending(Passphrase, Cheap));
    }

    [Fact]
    public void Disposed_request_cannot_open_a_handover()
    {
        DeviceEnrolmentRequest request = NewRequest();
        SealedHandover handover = Seal(request);
        request.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Open(handover, request));
    }

    [Fact]
    public void Nothing_secret_in_ToString()
    {
        using DeviceEnrolmentRequest request = NewRequest();
        using OpenedHandover opened = Open(Seal(request), request);
        Assert.DoesNotContain(Convert.ToHexStringLower(_share[..8]), opened.ToString());
        Assert.DoesNotContain(Convert.ToHexStringLower(_share[..8]), request.ToString());
    }
}
