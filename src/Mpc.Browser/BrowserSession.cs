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
    private DeviceEnrolmentRequest? _enrolment;

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
        HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
    });

    public void UseDevice(RingPedersenSecret device)
    {
        _device?.Dispose();
        _device = device;
        _client?.Dispose();
        _client = null;
    }

    /// <summary>Keeps a new device's pending enrolment (replacing, and zeroing, an earlier one).</summary>
    public void StartEnrolment(DeviceEnrolmentRequest request)
    {
        _enrolment?.Dispose();
        _enrolment = request;
    }

    /// <summary>The pending enrolment, handed to the caller (who disposes it): a handover is opened once.</summary>
    public DeviceEnrolmentRequest TakeEnrolment()
    {
        DeviceEnrolmentRequest request = _enrolment ?? throw new InvalidOperationException("No enrolment is pending in this browser: call requestEnrolment(keyId) first.");
        _enrolment = null;
        return request;
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
    private bool _loseNextReply;

    /// <summary>Test builds only: the next refresh, restore or enrolment loses its reply after the server has switched.</summary>
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

    public void Dispose()
    {
        foreach (MpcKey key in _keys.Values)
        {
            key.Dispose();
        }
        _keys.Clear();
        _client?.Dispose();
        _device?.Dispose();
        _enrolment?.Dispose();
    }
}
