using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Client.DeviceProfiles;
using Mpc.Crypto.Proofs;

namespace Mpc.Client.Tests.Sdk;

// Test doubles for operations that start while a key file or device profile is still being opened
// (RefreshKeyFileTests, KeyGenWhileProfileOpensTests).

/// <summary>Notes each call's method once its reply has arrived.</summary>
internal sealed class CallLog : DelegatingHandler
{
    private readonly Lock _gate = new();
    private readonly List<string> _methods = [];
    private readonly Dictionary<string, TaskCompletionSource> _seen = [];

    public CallLog() : base(new SocketsHttpHandler()) { }

    /// <summary>Completes when the server's round 4 (ContinueRefresh's reply) has reached the client.</summary>
    public Task Continued => Seen("ContinueRefresh");

    /// <summary>Completes once a reply to <paramref name="method"/> has reached the client.</summary>
    public Task Seen(string method)
    {
        lock (_gate)
        {
            return Source(method).Task;
        }
    }

    /// <summary>The methods answered so far, and forgets them.</summary>
    public string[] Take()
    {
        lock (_gate)
        {
            string[] methods = [.. _methods];
            _methods.Clear();
            return methods;
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
        string method = request.RequestUri!.AbsolutePath[(request.RequestUri.AbsolutePath.LastIndexOf('/') + 1)..];
        lock (_gate)
        {
            _methods.Add(method);
            Source(method).TrySetResult();
        }
        return response;
    }

    private TaskCompletionSource Source(string method) =>
        _seen.TryGetValue(method, out TaskCompletionSource? source) ? source
            : _seen[method] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The fixture's device parameters, with a clear header that says <paramref name="peeked"/> (null: a store that cannot peek).</summary>
internal sealed class PeekingStore(IDeviceProfileStore inner, RingPedersenParameters? peeked) : IDeviceProfileStore, IDeviceProfilePeek
{
    public string DeviceId => inner.DeviceId;

    public Task<DeviceProfile?> LoadAsync(CancellationToken cancellationToken) => inner.LoadAsync(cancellationToken);

    public Task SaveAsync(DeviceProfile profile, CancellationToken cancellationToken) => inner.SaveAsync(profile, cancellationToken);

    public ValueTask<RingPedersenParameters?> PeekParametersAsync(CancellationToken cancellationToken) => ValueTask.FromResult(peeked);
}

/// <summary>A profile whose header peeks fine but which does not open (as under a mistyped passphrase).</summary>
internal sealed class RefusingStore(RingPedersenParameters peeked) : IDeviceProfileStore, IDeviceProfilePeek
{
    public string DeviceId => "test-device";

    public Task<DeviceProfile?> LoadAsync(CancellationToken cancellationToken) =>
        throw new MpcSignerException(MpcErrorReason.WrongPassphrase, "device profile: wrong passphrase, or the device profile was modified");

    public Task SaveAsync(DeviceProfile profile, CancellationToken cancellationToken) => throw new InvalidOperationException("never saved here");

    public ValueTask<RingPedersenParameters?> PeekParametersAsync(CancellationToken cancellationToken) => ValueTask.FromResult<RingPedersenParameters?>(peeked);
}

internal static class OpeningChecks
{
    /// <summary>The key signs random data, and .NET's ECDsa verifies the signature under the key's public key.</summary>
    public static async Task AssertSigns(MpcSignerClient client, MpcKey key)
    {
        byte[] data = RandomNumberGenerator.GetBytes(64);
        MpcSignature signature = await client.SignDataAsync(key, data);
        using ECDsa verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
        Assert.True(verifier.VerifyData(data, signature.ToDer(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }
}
