using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Mpc.Client.Custody;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using static Mpc.Client.Tests.Custody.CustodyTestData;

namespace Mpc.Client.Tests.Custody;

/// <summary>
/// What one device hands another, mutated (<see cref="Mutations"/>): backups, enrolment request tokens, handovers and
/// pending enrolments are refused with <see cref="MpcSignerException"/> in one line, or read as exactly what was written.
/// </summary>
public sealed class CustodyFuzzTests
{
    private const string Passphrase = "correct horse battery staple";
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly ManualTime _time = new(Start);

    private static bool Documented(Exception e) => e is MpcSignerException { Message: var m } && !m.Contains('\n', StringComparison.Ordinal);

    [Fact]
    public void A_pending_enrolment_secret_with_a_bad_key_id_or_point_is_corrupt_input()
    {
        using DeviceEnrolmentRequest created = DeviceEnrolmentRequest.Create("key-0123", _time);
        byte[] secret = created.ExportSecret();
        // The key id field: "key-0123" after its 4-byte length. A control character is no key id (FormatException inside).
        int keyId = secret.AsSpan().IndexOf("key-0123"u8);
        byte[] badKeyId = secret.ToArray();
        badKeyId[keyId] = 0x01;
        // A time beyond DateTimeOffset's range (the last 8-byte field before the private key).
        byte[] badTime = secret.ToArray();
        int time = keyId + "key-0123".Length + 4;
        badTime.AsSpan(time, 8).Fill(0x7F);

        foreach (byte[] bad in new[] { badKeyId, badTime })
        {
            MpcSignerException e = Assert.Throws<MpcSignerException>(() => DeviceEnrolmentRequest.ImportSecret(bad));
            Assert.Equal(MpcErrorReason.CorruptInput, e.Reason);
            AssertOneLine(e);
        }
    }

    [Fact]
    public void Mutated_pending_enrolment_secrets_are_refused_or_restore_the_same_request()
    {
        using DeviceEnrolmentRequest created = DeviceEnrolmentRequest.Create("key-0123", _time);
        byte[] secret = created.ExportSecret();
        var mutations = new Mutations("pending enrolment secret");
        foreach (Mutant mutant in mutations.Of(secret, Mutations.Iterations(300)))
        {
            mutations.Check(mutant, bytes =>
            {
                using DeviceEnrolmentRequest restored = DeviceEnrolmentRequest.ImportSecret(bytes);
                Assert.Equal(bytes, restored.ExportSecret());
            }, Documented);
        }
    }

    [Fact]
    public void Mutated_pending_enrolment_files_are_refused_or_restore_the_same_request()
    {
        using DeviceEnrolmentRequest created = DeviceEnrolmentRequest.Create("key-0123", _time);
        byte[] file = created.ExportPending(Passphrase, Cheap);
        var mutations = new Mutations("pending enrolment file");
        foreach (Mutant mutant in mutations.Of(file, Mutations.Iterations(100)))
        {
            mutations.Check(mutant, bytes =>
            {
                using DeviceEnrolmentRequest restored = DeviceEnrolmentRequest.ImportPending(bytes, Passphrase, Cheap);
                Assert.Equal(created.Request, restored.Request);
            }, Documented);
        }
    }

    [Fact]
    public void Mutated_backups_are_refused_or_open_the_same_share()
    {
        byte[] share = RandomNumberGenerator.GetBytes(200);
        var identity = new BackupIdentity("alice@example.com", "key-0123", "alice-laptop", CurveKind.P256, RandomPublicKey(CurveKind.P256), Start);
        byte[] backup = ClientShareBackup.Seal(share, identity, Passphrase, Cheap);
        var mutations = new Mutations("client share backup");
        foreach (Mutant mutant in mutations.Of(backup, Mutations.Iterations(100)))
        {
            mutations.Check(mutant, bytes =>
            {
                // The clear identity is read without the passphrase; then the whole file opens, or is refused.
                BackupIdentity clear = ClientShareBackup.ReadIdentity(bytes);
                byte[] opened = ClientShareBackup.Open(bytes, Passphrase, out BackupIdentity sealedIdentity, Cheap);
                Assert.Equal(share, opened);
                Assert.Equivalent(identity, sealedIdentity, strict: true);
                Assert.Equivalent(identity, clear, strict: true);
            }, Documented);
        }
    }

    [Fact]
    public void Mutated_enrolment_request_tokens_are_refused_or_parse_to_what_they_spell()
    {
        using DeviceEnrolmentRequest created = DeviceEnrolmentRequest.Create("key-0123", _time);
        string token = created.Request.ToToken();
        var mutations = new Mutations("enrolment request token");
        foreach ((string kind, Mutant mutant) in mutations.Of(Originals(token, EnrolmentRequestPrefix), Mutations.Iterations(300)))
        {
            mutations.Check(mutant, bytes =>
            {
                EnrolmentRequest parsed = EnrolmentRequest.Parse(Text(kind, EnrolmentRequestPrefix, bytes));
                Assert.Equal(parsed, EnrolmentRequest.Parse(parsed.ToToken()));
            }, Documented, kind);
        }
    }

    [Fact]
    public void Mutated_handovers_are_refused_and_leave_the_genuine_one_usable_or_the_request_used_up()
    {
        byte[] share = RandomNumberGenerator.GetBytes(96);
        var identity = new HandoverIdentity("alice@example.com", "key-0123", "alice-laptop", CurveKind.P256, RandomPublicKey(CurveKind.P256));
        var mutations = new Mutations("device handover");
        DeviceEnrolmentRequest? pending = null;
        SealedHandover handover = null!;
        // Few: every handover that parses costs an Argon2id run (64 MiB) to check its code.
        for (int i = 0; i < Mutations.Iterations(40); i++)
        {
            if (pending is null)
            {
                // Sealing is the slow part: a new request and handover only once a refusal has used the last one up.
                pending = DeviceEnrolmentRequest.Create("key-0123", _time);
                handover = DeviceHandover.Seal(pending.Request.ToToken(), pending.Request.ConfirmationCode, share, identity, _time);
            }
            (string kind, Mutant mutant) = mutations.Of(Originals(handover.Text, HandoverPrefix), 1).Single();
            mutant = mutant with { Index = i };
            MpcErrorReason? refused = null;
            bool opened = false;
            mutations.Check(mutant, bytes =>
            {
                try
                {
                    using OpenedHandover forged = DeviceHandover.Open(Text(kind, HandoverPrefix, bytes), handover.HandoverCode, pending, _time);
                    opened = true;
                    // Only what the genuine handover holds ever opens.
                    Assert.Equal(share, forged.ShareSecret.ToArray());
                    Assert.Equivalent(identity, forged.Identity, strict: true);
                }
                catch (MpcSignerException e)
                {
                    refused = e.Reason;
                    throw;
                }
            }, Documented, kind);
            if (refused is MpcErrorReason.HandoverRejected)
            {
                // A handover that named this request but did not open uses the request up, as documented.
                Assert.Throws<ObjectDisposedException>(() => DeviceHandover.Open(handover.Text, handover.HandoverCode, pending, _time));
            }
            if (opened || refused is MpcErrorReason.HandoverRejected)
            {
                pending.Dispose();
                pending = null;
            }
        }
        if (pending is not null)
        {
            // Every other refusal opened nothing and left the request waiting for the genuine handover.
            using OpenedHandover genuine = DeviceHandover.Open(handover.Text, handover.HandoverCode, pending, _time);
            Assert.Equal(share, genuine.ShareSecret.ToArray());
            pending.Dispose();
        }
    }

    private const string EnrolmentRequestPrefix = "mpc-enrol2:";
    private const string HandoverPrefix = "mpc-handover3:";

    /// <summary>
    /// A token to mutate two ways: as text (base64 damage, mostly), and as its decoded bytes written back as a token
    /// (framing damage that reaches the field checks).
    /// </summary>
    private static List<(string, byte[])> Originals(string token, string prefix) =>
        [("text", Encoding.UTF8.GetBytes(token)), ("decoded", Base64Url.DecodeFromChars(token.AsSpan(prefix.Length)))];

    private static string Text(string kind, string prefix, byte[] bytes) =>
        kind == "text" ? Encoding.UTF8.GetString(bytes) : prefix + Base64Url.EncodeToString(bytes);
}
