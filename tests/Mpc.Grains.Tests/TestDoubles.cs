using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Grains.Sealing;
using Orleans.Storage;

namespace Mpc.Grains.Tests;

/// <summary>One grain's persistent state in memory, whose writes fail while <see cref="FailWrites"/> says so.</summary>
internal sealed class FlakyState<T>(T state) : IPersistentState<T>
{
    public T State { get; set; } = state;

    public string? Etag { get; private set; } = "0";

    public bool RecordExists => true;

    public int Writes { get; private set; }

    public int Reads { get; private set; }

    /// <summary>The exception the next writes throw; null for writes that succeed.</summary>
    public Exception? FailWrites { get; set; }

    /// <summary>What <see cref="ReadStateAsync"/> loads (the state another activation wrote); null keeps the current one.</summary>
    public T? StoredByOthers { get; set; }

    public Task ClearStateAsync() => Task.CompletedTask;

    public Task WriteStateAsync()
    {
        if (FailWrites is { } failure)
        {
            return Task.FromException(failure);
        }
        Writes++;
        Etag = Writes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }

    public Task ReadStateAsync()
    {
        Reads++;
        if (StoredByOthers is { } other)
        {
            State = other;
        }
        return Task.CompletedTask;
    }
}

/// <summary>An audit trail that keeps what it is given, for assertions.</summary>
internal sealed class RecordingAudit : IKeyAuditTrail
{
    private readonly List<(string KeyId, AuditEventKind Kind, string Outcome, string Detail)> _events = [];

    public IReadOnlyList<(string KeyId, AuditEventKind Kind, string Outcome, string Detail)> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public void Record(string keyId, AuditEventKind kind, string deviceId, Digest? digest, string outcome, string detail = "")
    {
        lock (_events)
        {
            _events.Add((keyId, kind, outcome, detail));
        }
    }
}

/// <summary>A key-encryption key held in memory (AES-256-GCM), for a test silo only.</summary>
internal sealed class InMemoryKeyEncryptionKey : IKeyEncryptionKeyProvider, IDisposable
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public string KeyId => "test-kek";

    public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken ct)
    {
        byte[] output = new byte[12 + dataKey.Length + 16];
        RandomNumberGenerator.Fill(output.AsSpan(0, 12));
        using var aes = new AesGcm(_key, 16);
        aes.Encrypt(output.AsSpan(0, 12), dataKey.Span, output.AsSpan(12, dataKey.Length), output.AsSpan(12 + dataKey.Length));
        return ValueTask.FromResult(output);
    }

    public ValueTask<byte[]> UnwrapAsync(string kekId, ReadOnlyMemory<byte> wrapped, CancellationToken ct)
    {
        if (kekId != KeyId || wrapped.Length < 28)
        {
            throw new KeyEncryptionKeyException("Unknown key-encryption key or malformed wrapped key.");
        }
        byte[] dataKey = new byte[wrapped.Length - 28];
        using var aes = new AesGcm(_key, 16);
        try
        {
            aes.Decrypt(wrapped.Span[..12], wrapped.Span[12..^16], wrapped.Span[^16..], dataKey);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new KeyEncryptionKeyException("The wrapped key fails authentication.", e);
        }
        return ValueTask.FromResult(dataKey);
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
