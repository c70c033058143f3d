using System.Runtime.Versioning;
using Grpc.Net.Client.Web;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.DeviceProfiles;
using Mpc.Crypto.Proofs;

namespace Mpc.Browser;

/// <summary>
/// One server and token, this device's parameters and the keys opened so far. The client is made when first needed,
/// and again after the device parameters change (the SDK reads them from its options).
/// </summary>
[SupportedOSPlatform("browser")]
internal sealed class BrowserSession(Uri server, string token) : IDisposable
{
    private readonly Dictionary<string, MpcKey> _keys = new(StringComparer.Ordinal);
    private RingPedersenSecret? _device;
    private MpcSignerClient? _client;
    private readonly Dictionary<int, NewDeviceWatch> _watches = [];
    private readonly Dictionary<int, CancellationTokenSource> _watchCancellations = [];
    private int _lastWatch;

    /// <summary>The device id of this browser's profile, local to the SDK's store (the server never sees it).</summary>
    private const string DeviceId = "this-browser";

    public RingPedersenSecret Device => _device ?? throw new InvalidOperationException("No device parameters: run device setup first.");

    /// <summary>The SDK's arithmetic choice for this runtime: modular exponentiation in JS BigInt (<see cref="JsBigIntBackend"/>).</summary>
    public static MpcArithmetic Arithmetic { get; } = MpcArithmetic.From(new JsBigIntBackend());

    public MpcSignerClient Client => _client ??= new MpcSignerClient(server, token, new MpcSignerClientOptions
    {
        Arithmetic = Arithmetic,
        // The parameters this browser made (or unsealed) itself, handed to the SDK as its device profile; the worker,
        // not the SDK, keeps them sealed in IndexedDB, so the store is only this session's memory.
        DeviceProfileStore = _device is null ? null : new InMemoryDeviceProfileStore(DeviceProfile.From(DeviceId, _device, DateTimeOffset.UnixEpoch)),
        // The browser's fetch (HttpClientHandler is BrowserHttpHandler here) carrying gRPC-Web, binary framing.
        HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, Transport()),
    });

    public void UseDevice(RingPedersenSecret device)
    {
        _device?.Dispose();
        _device = device;
        _client?.Dispose();
        _client = null;
    }

    /// <summary>
    /// Keeps a handover's <see cref="NewDeviceWatch"/> until <see cref="TakeWatch"/>, with the cancellation
    /// <see cref="CancelWatch"/> triggers (the page's AbortSignal); the handle the worker passes back.
    /// </summary>
    public int AddWatch(NewDeviceWatch watch)
    {
        _watches[++_lastWatch] = watch;
        _watchCancellations[_lastWatch] = new CancellationTokenSource();
        return _lastWatch;
    }

    /// <summary>The watch and its cancellation, once: each handover's completion is awaited once (<see cref="EndWatch"/> after).</summary>
    public (NewDeviceWatch Watch, CancellationToken Cancellation) TakeWatch(int handle) =>
        _watches.Remove(handle, out NewDeviceWatch? watch) && _watchCancellations.TryGetValue(handle, out CancellationTokenSource? cancellation)
            ? (watch, cancellation.Token)
            : throw new InvalidOperationException("No handover is waiting under this handle: each handover's completion is awaited once.");

    /// <summary>Stops the wait of <paramref name="handle"/>, whether it has started or not; nothing once it has ended.</summary>
    public void CancelWatch(int handle)
    {
        if (_watchCancellations.TryGetValue(handle, out CancellationTokenSource? cancellation))
        {
            cancellation.Cancel();
        }
    }

    public void EndWatch(int handle)
    {
        if (_watchCancellations.Remove(handle, out CancellationTokenSource? cancellation))
        {
            cancellation.Dispose();
        }
    }

    public void Add(MpcKey key)
    {
        if (_keys.Remove(key.KeyId, out MpcKey? previous))
        {
            previous.Dispose();
        }
        _keys[key.KeyId] = key;
    }

    public MpcKey Key(string keyId) => _keys.TryGetValue(keyId, out MpcKey? key)
        ? key
        : throw new InvalidOperationException($"Key '{keyId}' is not open in this browser: create it or open its stored share.");

#if MPC_BROWSER_TEST_HOOKS
    private readonly ShiftedClock _clock = new();

    /// <summary>The clock enrolment requests are dated and checked by; test builds can move it forward.</summary>
    public TimeProvider Clock => _clock;

    /// <summary>Test builds only: moves this session's clock forward, so an enrolment request or a handover's wait expires.</summary>
    public void AdvanceClockForTest(TimeSpan by) => _clock.Offset += by;

    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }
#else
    /// <summary>The clock enrolment requests are dated and checked by.</summary>
    public TimeProvider Clock => TimeProvider.System;
#endif

#if MPC_BROWSER_TEST_HOOKS
    private bool _dropConfirmations;

    /// <summary>Test builds only: every later ConfirmKeyGen of this session fails before it is sent.</summary>
    public void DropConfirmationsForTest() => _dropConfirmations = true;

    private HttpMessageHandler Transport() => new ConfirmationDropper(this, new HttpClientHandler());

    private sealed class ConfirmationDropper(BrowserSession session, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            session._dropConfirmations && request.RequestUri!.AbsolutePath.EndsWith("/ConfirmKeyGen", StringComparison.Ordinal)
                ? Task.FromException<HttpResponseMessage>(new HttpRequestException("test hook: the confirmation was lost before it reached the server"))
                : base.SendAsync(request, cancellationToken);
    }
#else
    private static HttpMessageHandler Transport() => new HttpClientHandler();
#endif

#if MPC_BROWSER_TEST_HOOKS
    private bool _loseNextReply;

    /// <summary>Test builds only: the next refresh, restore, enrolment or key generation loses its reply after the server has switched or stored.</summary>
    public void LoseNextReplyForTest() => _loseNextReply = true;
#endif

    /// <summary>
    /// In test builds, when asked: drops <paramref name="key"/> and fails as a reply lost after the server's switch
    /// would. Otherwise nothing.
    /// </summary>
    public void LoseReplyIfAskedForTest(MpcKey key)
    {
#if MPC_BROWSER_TEST_HOOKS
        if (_loseNextReply)
        {
            _loseNextReply = false;
            key.Dispose();
            throw new MpcSignerException(MpcErrorReason.OutcomeUnknown, "test hook: the reply was lost after the server switched to the new share");
        }
#else
        _ = key;
#endif
    }

    /// <summary>
    /// In test builds, when asked: fails as a key generation whose every confirmation reply was lost after the server
    /// stored the key (<see cref="MpcKeyGenOutcomeUnknownException"/>, handing over <paramref name="key"/>'s share). Otherwise nothing.
    /// </summary>
    public void LoseKeyGenReplyIfAskedForTest(MpcKey key)
    {
#if MPC_BROWSER_TEST_HOOKS
        if (_loseNextReply)
        {
            _loseNextReply = false;
            throw new MpcKeyGenOutcomeUnknownException(key.KeyId, key.Share,
                new MpcSignerException(MpcErrorReason.OutcomeUnknown, "test hook: the confirmation's reply was lost after the server stored the key"));
        }
#else
        _ = key;
#endif
    }

    public void Dispose()
    {
        foreach (MpcKey key in _keys.Values)
        {
            key.Dispose();
        }
        _keys.Clear();
        foreach (CancellationTokenSource cancellation in _watchCancellations.Values)
        {
            cancellation.Dispose();
        }
        _watchCancellations.Clear();
        _client?.Dispose();
        _device?.Dispose();
    }
}
