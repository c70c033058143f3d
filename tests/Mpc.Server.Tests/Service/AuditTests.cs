using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Grains.Storage;
using Mpc.Grains.Telemetry;
using Mpc.Protocol.Audit;
using Mpc.Protocol.Messages;
using Orleans.Serialization;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Mpc.Server.Tests.Service;

/// <summary>The per-key hash-chained audit log: complete, tamper-evident, owner-only, and off the signing path.</summary>
[Collection("server")]
public sealed class AuditTests(ServerFixture server)
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public async Task Keygen_signatures_and_a_refused_abort_attack_are_chained_and_verify()
    {
        const string user = "audit-chain";
        using MpcSignerClient client = server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        var digests = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            await client.SignDigestAsync(key, digest);
            digests.Add(Convert.ToHexStringLower(digest));
        }
        byte[] attacked = await AbortAttackAsync(key, user);

        MpcAuditPage log = await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 5);

        MpcAuditVerification result = MpcAuditLog.Verify(key.KeyId, log.Entries);
        Assert.True(result.IsValid, result.Error);
        Assert.Equal(5, result.Count);
        Assert.Equal(log.HeadHash, result.HeadHash);
        // The refused c3 is a signing attempt on record (outcome proof-failed, reason ProofFailed), not a freeze.
        Assert.Equal(["keygen", "sign", "sign", "sign", "sign"], log.Entries.Select(e => e.Event));
        Assert.Equal(digests, log.Entries.Skip(1).Take(3).Select(e => Convert.ToHexStringLower(e.Digest)));
        Assert.All(log.Entries, e => Assert.Equal(AuditDevices.Primary, e.DeviceId));
        Assert.All(log.Entries.Take(4), e => Assert.Equal("ok", e.Outcome));
        Assert.Equal(AuditOutcomes.ProofFailed, log.Entries[4].Outcome);
        Assert.Equal("ProofFailed", log.Entries[4].Detail);
        Assert.Equal(attacked, log.Entries[4].Digest);
        Assert.False((await client.GetKeyAsync(key.KeyId)).Frozen);

        // Bound to the key: the same entries do not verify as another key's chain.
        Assert.False(MpcAuditLog.Verify(key.KeyId + "x", log.Entries).IsValid);

        // Paging returns the same entries.
        MpcAuditPage second = await client.GetAuditAsync(key.KeyId, fromSequence: 2, maxCount: 2);
        Assert.Equal([2L, 3L], second.Entries.Select(e => e.Sequence));
        Assert.Equal(log.Entries[1].Hash, second.Entries[0].Hash);
    }

    [Fact]
    public async Task A_page_past_the_end_is_empty_however_far_past()
    {
        // from_sequence is the client's to choose: near long.MaxValue the page's last sequence used to overflow
        // (checked arithmetic), which reached the caller as Internal "cannot be read right now".
        using MpcSignerClient client = server.Client("audit-past-the-end");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        MpcAuditPage log = await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 1);

        foreach (long from in new[] { log.HeadSequence + 1, long.MaxValue - 998, long.MaxValue })
        {
            MpcAuditPage page = await client.GetAuditAsync(key.KeyId, fromSequence: from);
            Assert.Empty(page.Entries);
            Assert.Equal(log.HeadSequence, page.HeadSequence);
            Assert.Equal(log.HeadHash, page.HeadHash);
        }
    }

    [Fact]
    public async Task An_entry_edited_in_storage_is_detected_and_named()
    {
        const string user = "audit-tamper";
        string keyId;
        using (MpcSignerClient client = server.Client(user))
        {
            using MpcKey key = await client.CreateKeyAsync(CurveKind.Secp256k1);
            keyId = key.KeyId;
            await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
            await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
            Assert.True(MpcAuditLog.Verify(keyId, (await AuditLogs.WaitForEntriesAsync(client, keyId, 3)).Entries).IsValid);
        }

        await server.StopAsync();
        try
        {
            // What an insider with write access to the store would do: claim sequence 2 signed another digest.
            var storage = new FileGrainStorage(StorageNames.Keys, server.DataDirectory, Serializer);
            var head = new Orleans.GrainState<AuditHeadState>();
            Orleans.Runtime.GrainId id = Orleans.Runtime.GrainId.Create(GrainTypes.KeyAudit, keyId);
            await storage.ReadStateAsync("audit", id, head);
            Grains.Abstractions.AuditEntry victim = Assert.Single(head.State!.Tail, e => e.Sequence == 2);
            victim.Digest = RandomNumberGenerator.GetBytes(32);
            await storage.WriteStateAsync("audit", id, head);
        }
        finally
        {
            await server.StartAsync();
        }

        using MpcSignerClient after = server.Client(user);
        MpcAuditPage log = await after.GetAuditLogAsync(keyId);
        MpcAuditVerification result = MpcAuditLog.Verify(keyId, log.Entries);
        Assert.False(result.IsValid);
        Assert.Equal(2, result.FirstBadSequence);
        Assert.Contains("entry 2 was altered", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_removed_entry_a_truncated_chain_and_a_rewritten_chain_are_detected()
    {
        using MpcSignerClient client = server.Client("audit-remove");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        for (int i = 0; i < 4; i++)
        {
            await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        }
        MpcAuditPage log = await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 5);
        Assert.True(MpcAuditLog.Verify(key.KeyId, log.Entries).IsValid);
        var remembered = new MpcAuditHead(5, log.Entries[4].Hash);
        Assert.True(MpcAuditLog.Verify(key.KeyId, log.Entries, remembered).IsValid);

        List<MpcAuditEntry> removed = [.. log.Entries];
        removed.RemoveAt(2);
        MpcAuditVerification gap = MpcAuditLog.Verify(key.KeyId, removed);
        Assert.False(gap.IsValid);
        Assert.Equal(3, gap.FirstBadSequence);
        Assert.Contains("entry 3 is missing", gap.Error, StringComparison.Ordinal);

        // Dropping the newest entries leaves a valid chain: only a remembered head reveals it.
        List<MpcAuditEntry> truncated = [.. log.Entries.Take(3)];
        Assert.True(MpcAuditLog.Verify(key.KeyId, truncated).IsValid);
        MpcAuditVerification cut = MpcAuditLog.Verify(key.KeyId, truncated, remembered);
        Assert.False(cut.IsValid);
        Assert.Equal(4, cut.FirstBadSequence);
        Assert.False(MpcAuditLog.Verify(key.KeyId, truncated, remembered with { Sequence = 0 }).IsValid);

        // A server that rewrites entry 2 and re-hashes everything after it: self-consistent, but not the chain seen before.
        List<MpcAuditEntry> rewritten = Rehash(key.KeyId, [.. log.Entries.Select((e, i) => i == 1 ? e with { Digest = new byte[32] } : e)]);
        Assert.True(MpcAuditLog.Verify(key.KeyId, rewritten).IsValid);
        MpcAuditVerification forged = MpcAuditLog.Verify(key.KeyId, rewritten, remembered);
        Assert.False(forged.IsValid);
        Assert.Equal(5, forged.FirstBadSequence);
    }

    [Fact]
    public async Task A_verified_head_is_continued_from_fetching_only_the_entries_after_it_and_a_chain_that_lost_or_changed_it_fails()
    {
        using MpcSignerClient client = server.Client("audit-continue");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        MpcAuditVerification earlier = MpcAuditLog.Verify(key.KeyId, (await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 3)).Entries);
        Assert.True(earlier.IsValid, earlier.Error);
        MpcAuditHead head = earlier.Head;
        Assert.Equal(3, head.Sequence);
        for (int i = 0; i < 3; i++)
        {
            await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        }
        MpcAuditPage log = await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 6);

        // Fetched from the remembered entry on: that entry and the three after it, nothing before.
        MpcAuditChainVerifier verifier = MpcAuditChainVerifier.ContinuingFrom(key.KeyId, head);
        Assert.Equal(3, verifier.FirstSequence);
        var fetched = new List<long>();
        await foreach (MpcAuditPage page in client.ReadAuditLogAsync(key.KeyId, verifier.FirstSequence))
        {
            Assert.Equal(6, page.HeadSequence);
            foreach (MpcAuditEntry entry in page.Entries)
            {
                fetched.Add(entry.Sequence);
                Assert.True(verifier.Add(entry));
            }
        }
        Assert.Equal([3L, 4L, 5L, 6L], fetched);
        MpcAuditVerification continued = verifier.Result();
        Assert.True(continued.IsValid, continued.Error);
        Assert.Equal(6, continued.Count);
        Assert.Equal(log.HeadHash, continued.HeadHash);
        MpcAuditHead whole = MpcAuditLog.Verify(key.KeyId, log.Entries).Head;
        Assert.Equal(whole, continued.Head);
        Assert.Equal($"6:{Convert.ToHexStringLower(log.HeadHash)}", continued.Head.ToString());
        Assert.NotEqual(whole, whole with { Hash = new byte[32] });

        // Entries 1 and 2 rewritten and everything re-hashed: entry 3 is no longer the one remembered.
        List<MpcAuditEntry> rewritten = Rehash(key.KeyId, [.. log.Entries.Select((e, i) => i == 1 ? e with { Digest = new byte[32] } : e)]);
        MpcAuditVerification forged = Continue(key.KeyId, head, rewritten.Skip(2));
        Assert.False(forged.IsValid);
        Assert.Equal(3, forged.FirstBadSequence);
        Assert.Contains("entry 3 differs from the one seen before", forged.Error, StringComparison.Ordinal);
        Assert.Equal(0, forged.Count);

        // The chain ends before the remembered entry (the server dropped the newest entries).
        MpcAuditVerification truncated = Continue(key.KeyId, head, []);
        Assert.False(truncated.IsValid);
        Assert.Equal(3, truncated.FirstBadSequence);
        Assert.Contains("no longer reaches entry 3", truncated.Error, StringComparison.Ordinal);

        // After the remembered entry, the checks are those of a whole chain.
        MpcAuditVerification altered = Continue(key.KeyId, head, log.Entries.Skip(2).Select(e => e.Sequence == 5 ? e with { Outcome = "refused" } : e));
        Assert.False(altered.IsValid);
        Assert.Equal(5, altered.FirstBadSequence);
        Assert.Equal(4, altered.Count);
        Assert.Contains("entry 5 was altered", altered.Error, StringComparison.Ordinal);
        MpcAuditVerification skipped = Continue(key.KeyId, head, log.Entries.Skip(3));
        Assert.False(skipped.IsValid);
        Assert.Contains("entry 3 is missing", skipped.Error, StringComparison.Ordinal);

        // The SDK's one call: the whole chain, then only what follows its head.
        MpcAuditVerification all = await client.VerifyAuditLogAsync(key.KeyId);
        Assert.True(all.IsValid, all.Error);
        Assert.Equal(6, all.Count);
        MpcAuditVerification since = await client.VerifyAuditLogAsync(key.KeyId, head);
        Assert.True(since.IsValid, since.Error);
        Assert.Equal(all.HeadHash, since.HeadHash);
        MpcAuditVerification nothingNew = await client.VerifyAuditLogAsync(key.KeyId, all.Head);
        Assert.True(nothingNew.IsValid, nothingNew.Error);
        Assert.Equal(6, nothingNew.Count);
        // A remembered entry 3 the server's chain does not hold (the rewritten one above).
        MpcAuditVerification notHeld = await client.VerifyAuditLogAsync(key.KeyId, head with { Hash = rewritten[2].Hash });
        Assert.False(notHeld.IsValid);
        Assert.Contains("entry 3 differs from the one seen before", notHeld.Error, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => MpcAuditChainVerifier.ContinuingFrom(key.KeyId, head with { Sequence = 0 }));
        Assert.Throws<ArgumentException>(() => MpcAuditChainVerifier.ContinuingFrom(key.KeyId, head with { Hash = new byte[31] }));
    }

    [Fact]
    public void Nothing_follows_the_last_sequence_a_chain_can_have()
    {
        const string keyId = "key-at-the-end";
        byte[] previous = RandomNumberGenerator.GetBytes(32);
        byte[] hash = AuditChain.Hash(keyId, long.MaxValue, 1, "sign", "primary", [], "ok", "", previous);
        var last = new MpcAuditEntry(long.MaxValue, DateTimeOffset.FromUnixTimeMilliseconds(1), "sign", "primary", [], "ok", "", previous, hash);
        MpcAuditChainVerifier verifier = MpcAuditChainVerifier.ContinuingFrom(keyId, new MpcAuditHead(long.MaxValue, hash));

        Assert.True(verifier.Add(last));
        Assert.True(verifier.Result().IsValid);
        Assert.False(verifier.Add(last));
        MpcAuditVerification after = verifier.Result();
        Assert.False(after.IsValid);
        Assert.Equal(long.MaxValue, after.Count);
        Assert.Contains("the last sequence a chain can have", after.Error, StringComparison.Ordinal);
    }

    private static MpcAuditVerification Continue(string keyId, MpcAuditHead head, IEnumerable<MpcAuditEntry> entries)
    {
        MpcAuditChainVerifier verifier = MpcAuditChainVerifier.ContinuingFrom(keyId, head);
        foreach (MpcAuditEntry entry in entries)
        {
            verifier.Add(entry);
        }
        return verifier.Result();
    }

    [Fact]
    public async Task The_audit_log_of_another_users_key_is_permission_denied()
    {
        using MpcSignerClient owner = server.Client("audit-owner");
        using MpcKey key = await owner.CreateKeyAsync(CurveKind.P256);
        using MpcSignerClient intruder = server.Client("audit-intruder");
        MpcSignerException e = await Assert.ThrowsAsync<MpcSignerException>(() => intruder.GetAuditAsync(key.KeyId));
        Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, e.Status);
    }

    [Fact]
    public async Task Signing_goes_on_while_audit_storage_fails_and_the_queued_entries_are_persisted_afterwards()
    {
        var failures = new ConcurrentBag<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (server.Measures(instrument) && instrument.Meter.Name == SignerMetrics.MeterName && instrument.Name == "mpc.audit.failures")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) => failures.Add(tags.ToArray().FirstOrDefault(t => t.Key == "reason").Value as string ?? ""));
        listener.Start();

        using MpcSignerClient client = server.Client("audit-fault");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 1);

        // Corrupt the audit head record on disk: every read and write of it now fails, as with a broken store.
        string path = new FileGrainStorage(StorageNames.Keys, server.DataDirectory, Serializer)
            .GetFilePath("audit", Orleans.Runtime.GrainId.Create(GrainTypes.KeyAudit, key.KeyId));
        byte[] original = await File.ReadAllBytesAsync(path);
        byte[] corrupt = (byte[])original.Clone();
        corrupt[^1] ^= 0xff;
        await File.WriteAllBytesAsync(path, corrupt);
        var digests = new List<byte[]>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                byte[] digest = RandomNumberGenerator.GetBytes(32);
                MpcSignature signature = await client.SignDigestAsync(key, digest);
                Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, signature));
                digests.Add(digest);
            }
            MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.GetAuditAsync(key.KeyId));
            Assert.Equal(Grpc.Core.StatusCode.Internal, refused.Status);
            Assert.NotEmpty(failures);
        }
        finally
        {
            await File.WriteAllBytesAsync(path, original);
        }

        MpcAuditPage log = await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 4);
        Assert.True(MpcAuditLog.Verify(key.KeyId, log.Entries).IsValid);
        Assert.Equal(digests.Select(Convert.ToHexString), log.Entries.Skip(1).Select(e => Convert.ToHexString(e.Digest)));
    }

    /// <summary>Sends a crafted c3 (a multiple of q·x1 added) with the honest proof: the server refuses it before decryption.</summary>
    private async Task<byte[]> AbortAttackAsync(MpcKey key, string user)
    {
        using RawSigner raw = server.Raw(server.Token(user));
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, await AbortAttack.SendAsync(raw, key, digest));
        return digest;
    }

    private static List<MpcAuditEntry> Rehash(string keyId, List<MpcAuditEntry> entries)
    {
        byte[] previous = AuditChain.GenesisHash();
        var result = new List<MpcAuditEntry>();
        foreach (MpcAuditEntry e in entries)
        {
            byte[] hash = AuditChain.Hash(keyId, e.Sequence, e.Timestamp.ToUnixTimeMilliseconds(), e.Event, e.DeviceId, e.Digest, e.Outcome, e.Detail, previous);
            result.Add(e with { PreviousHash = previous, Hash = hash });
            previous = hash;
        }
        return result;
    }
}
