using Google.Protobuf;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Transport.V1;

namespace Mpc.Client.Tests.Sdk;

/// <summary>
/// A server (or something on the way) whose answers to GetKey, ListKeys, GetAudit and ListDevices carry values this SDK cannot
/// read, or whose audit pages do not add up to the head they claim: each is a <see cref="MpcSignerException"/> with <see cref="MpcErrorReason.MalformedMessage"/>, as every other
/// reply that fails a check here, not a CryptographicException or ArgumentOutOfRangeException from deep inside.
/// </summary>
[Collection("server")]
public sealed class MalformedServerRecordTests(ServerFixture server)
{
    /// <summary>Puts a certificate that does not parse into every KeyInfo, and a timestamp no calendar holds into the first audit entry and device.</summary>
    private sealed class LyingWire() : DelegatingHandler(new SocketsHttpHandler())
    {
        private static readonly ByteString NotACertificate = ByteString.CopyFrom(0x30, 0x03, 0x02, 0x01, 0x01);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string method = request.RequestUri!.AbsolutePath[(request.RequestUri.AbsolutePath.LastIndexOf('/') + 1)..];
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            response.Content = method switch
            {
                "GetKey" => await GrpcFrames.Edited(response.Content, KeyInfo.Parser, k => k.CertificateChain.Add(NotACertificate), cancellationToken),
                "ListKeys" => await GrpcFrames.Edited(response.Content, ListKeysResponse.Parser, l => l.Keys[0].CertificateChain.Add(NotACertificate), cancellationToken),
                "GetAudit" => await GrpcFrames.Edited(response.Content, GetAuditResponse.Parser, a => a.Entries[0].TimestampUnixMs = long.MaxValue, cancellationToken),
                "ListDevices" => await GrpcFrames.Edited(response.Content, ListDevicesResponse.Parser, l => l.Devices[0].CreatedUnixMs = long.MinValue, cancellationToken),
                _ => response.Content,
            };
            return response;
        }
    }

    [Fact]
    public async Task Key_records_and_audit_entries_that_do_not_parse_are_MalformedMessage()
    {
        const string user = "malformed-records";
        string keyId;
        using (MpcSignerClient honest = server.Client(user))
        using (MpcKey key = await honest.CreateKeyAsync(CurveKind.P256))
        {
            keyId = key.KeyId;
            await AuditLogs.WaitForEntriesAsync(honest, keyId, 1);
        }
        using var lying = new MpcSignerClient(server.Address, server.Token(user), new MpcSignerClientOptions { DeviceProfileStore = server.DeviceProfiles, HttpHandler = new LyingWire() });

        MpcSignerException getKey = await Assert.ThrowsAsync<MpcSignerException>(() => lying.GetKeyAsync(keyId));
        MpcSignerException listKeys = await Assert.ThrowsAsync<MpcSignerException>(() => lying.ListKeysAsync());
        MpcSignerException audit = await Assert.ThrowsAsync<MpcSignerException>(() => lying.GetAuditAsync(keyId));
        MpcSignerException devices = await Assert.ThrowsAsync<MpcSignerException>(() => lying.ListDevicesAsync(keyId));

        Assert.All(new[] { getKey, listKeys, audit, devices }, e => Assert.Equal(MpcErrorReason.MalformedMessage, e.Reason));
        Assert.Equal($"the server's record of key {keyId} does not parse (CryptographicException)", getKey.Message);
        Assert.Equal("audit entry 1 has a timestamp out of range (9223372036854775807 ms)", audit.Message);
        Assert.StartsWith("device ", devices.Message, StringComparison.Ordinal);
        Assert.EndsWith(" has a timestamp out of range (-9223372036854775808 ms)", devices.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> LyingAuditLogs => ["one entry a page", "a page that does not advance", "a full page that skips a sequence", "a repeated sequence"];

    [Theory]
    [MemberData(nameof(LyingAuditLogs))]
    public async Task An_audit_log_whose_pages_do_not_reach_the_head_in_order_is_MalformedMessage_after_a_few_pages(string lie)
    {
        string keyId = await KeyWithAuditEntryAsync("lying-audit-pages");
        Func<long, IEnumerable<AuditEntry>> page = lie switch
        {
            "one entry a page" => from => LyingAuditPages.Entries(from, 1),
            "a page that does not advance" => from => from == 1 ? LyingAuditPages.Entries(1, LyingAuditPages.FullPage) : [],
            "a full page that skips a sequence" => from => LyingAuditPages.Entries(from == 1 ? 1 : from + 1, LyingAuditPages.FullPage),
            _ => from => from == 1 ? LyingAuditPages.Entries(1, LyingAuditPages.FullPage) : LyingAuditPages.Entries(from - 1, LyingAuditPages.FullPage),
        };
        var wire = new LyingAuditPages(page, headSequence: long.MaxValue / 2);
        using MpcSignerClient lying = Lying("lying-audit-pages", wire);

        MpcSignerException e = await Assert.ThrowsAsync<MpcSignerException>(() => lying.GetAuditLogAsync(keyId));

        Assert.Equal(MpcErrorReason.MalformedMessage, e.Reason);
        Assert.Null(e.Status);
        Assert.InRange(wire.Calls, 1, 2);
    }

    [Fact]
    public async Task Entries_past_the_first_pages_head_are_left_for_the_next_fetch()
    {
        string keyId = await KeyWithAuditEntryAsync("audit-past-head");
        // The head is 1500; the second page also carries entries persisted after the first page was read.
        var wire = new LyingAuditPages(from => LyingAuditPages.Entries(from, from == 1 ? LyingAuditPages.FullPage : 700), headSequence: 1500);
        using MpcSignerClient lying = Lying("audit-past-head", wire);

        MpcAuditPage log = await lying.GetAuditLogAsync(keyId);

        Assert.Equal(1500, log.HeadSequence);
        Assert.Equal(Enumerable.Range(1, 1500).Select(i => (long)i), log.Entries.Select(e => e.Sequence));
        Assert.Equal(2, wire.Calls);
    }

    [Fact]
    public async Task A_log_read_from_an_entry_on_comes_page_by_page_up_to_the_first_pages_head()
    {
        string keyId = await KeyWithAuditEntryAsync("audit-read-pages");
        var wire = new LyingAuditPages(from => LyingAuditPages.Entries(from, LyingAuditPages.FullPage), headSequence: 2500);
        using MpcSignerClient lying = Lying("audit-read-pages", wire);

        var pages = new List<MpcAuditPage>();
        await foreach (MpcAuditPage page in lying.ReadAuditLogAsync(keyId, fromSequence: 100))
        {
            pages.Add(page);
        }

        Assert.Equal([1000, 1000, 401], pages.Select(p => p.Entries.Count));
        Assert.Equal(Enumerable.Range(100, 2401).Select(i => (long)i), pages.SelectMany(p => p.Entries).Select(e => e.Sequence));
        Assert.All(pages, p => Assert.Equal(2500, p.HeadSequence));
        Assert.Equal(3, wire.Calls);

        // A head below the first entry asked for (a shorter chain than the caller saw) is one empty page, not an error.
        var shorter = new LyingAuditPages(from => [], headSequence: 50);
        using MpcSignerClient behind = Lying("audit-read-pages", shorter);
        MpcAuditPage only = Assert.Single(await ToListAsync(behind.ReadAuditLogAsync(keyId, fromSequence: 100)));
        Assert.Empty(only.Entries);
        Assert.Equal(50, only.HeadSequence);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ToListAsync(behind.ReadAuditLogAsync(keyId, fromSequence: 0)));

        // A head at the last sequence there can be is read to without overflowing past it.
        var last = new LyingAuditPages(from => LyingAuditPages.Entries(from, 1), headSequence: long.MaxValue);
        using MpcSignerClient atEnd = Lying("audit-read-pages", last);
        MpcAuditPage final = Assert.Single(await ToListAsync(atEnd.ReadAuditLogAsync(keyId, fromSequence: long.MaxValue)));
        Assert.Equal(long.MaxValue, Assert.Single(final.Entries).Sequence);
    }

    private static async Task<List<MpcAuditPage>> ToListAsync(IAsyncEnumerable<MpcAuditPage> pages)
    {
        var list = new List<MpcAuditPage>();
        await foreach (MpcAuditPage page in pages)
        {
            list.Add(page);
        }
        return list;
    }

    private async Task<string> KeyWithAuditEntryAsync(string user)
    {
        using MpcSignerClient honest = server.Client(user);
        using MpcKey key = await honest.CreateKeyAsync(CurveKind.P256);
        await AuditLogs.WaitForEntriesAsync(honest, key.KeyId, 1);
        return key.KeyId;
    }

    private MpcSignerClient Lying(string user, DelegatingHandler wire) =>
        new(server.Address, server.Token(user), new MpcSignerClientOptions { DeviceProfileStore = server.DeviceProfiles, HttpHandler = wire });
}
