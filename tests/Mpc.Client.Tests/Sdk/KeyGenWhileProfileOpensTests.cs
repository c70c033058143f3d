using System.Buffers.Binary;
using Google.Protobuf;
using Mpc.Client;
using Mpc.Client.DeviceProfiles;
using Mpc.Crypto.Curves;
using Mpc.Transport.V1;

namespace Mpc.Client.Tests.Sdk;

/// <summary>
/// <see cref="MpcSignerClient.CreateKeyAsync"/> on a device the server already knows: both round trips run while the
/// device profile is still opening (its store is held shut by the test, so "before it opened" is observed, not
/// timed), and the server stores the key only when the client confirms it, after the profile opened and the server's
/// proofs were checked. A profile that does not open leaves no key behind.
/// </summary>
[Collection("server")]
public sealed class KeyGenWhileProfileOpensTests(ServerFixture server)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Sends CompleteKeyGen without confirm_later, as a client would to a server that predates it (whose reply then
    /// cannot say it awaits confirmation): the SDK must accept the key stored at once.
    /// </summary>
    private sealed class OldServerRequests() : DelegatingHandler(new SocketsHttpHandler())
    {
        public int Stripped { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/CompleteKeyGen", StringComparison.Ordinal))
            {
                HttpContent original = request.Content!;
                byte[] framed = await original.ReadAsByteArrayAsync(cancellationToken);
                CompleteKeyGenRequest message = CompleteKeyGenRequest.Parser.ParseFrom(framed.AsSpan(5));
                if (message.ConfirmLater)
                {
                    Stripped++;
                }
                message.ConfirmLater = false;
                byte[] body = message.ToByteArray();
                byte[] frame = new byte[5 + body.Length];
                BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
                body.CopyTo(frame, 5);
                var content = new ByteArrayContent(frame);
                foreach (KeyValuePair<string, IEnumerable<string>> header in original.Headers)
                {
                    content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
                content.Headers.ContentLength = frame.Length;
                request.Content = content;
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }

    private MpcSignerClient Client(string user, IDeviceProfileStore store, HttpMessageHandler? handler = null) =>
        new(server.Address, server.Token(user), new MpcSignerClientOptions { DeviceProfileStore = store, HttpHandler = handler });

    /// <summary>A first key of <paramref name="user"/> made with the fixture's device, so the server knows its parameters; returns the user's key count.</summary>
    private async Task<int> DeviceKnownTo(string user)
    {
        using MpcSignerClient client = server.Client(user);
        using MpcKey first = await client.CreateKeyAsync(CurveKind.P256);
        return (await client.ListKeysAsync()).Count;
    }

    /// <summary>A key generation of <paramref name="user"/> (whose device the server knows) started with the profile held shut.</summary>
    private async Task<(int KeysBefore, GatedStore Store, MpcSignerClient Client, Task<MpcKey> Creating)> StartedWhileShut(string user, HttpMessageHandler handler)
    {
        int before = await DeviceKnownTo(user);
        var store = new GatedStore(server.DeviceProfiles, server.RingPedersen.Parameters);
        MpcSignerClient client = Client(user, store, handler);
        return (before, store, client, client.CreateKeyAsync(CurveKind.P256));
    }

    private async Task<int> KeysOf(string user)
    {
        using MpcSignerClient client = server.Client(user);
        return (await client.ListKeysAsync()).Count;
    }

    [Fact]
    public async Task Both_round_trips_run_before_the_profile_opens_and_the_key_is_stored_only_when_confirmed()
    {
        const string user = "keygen-opening-a";
        var calls = new CallLog();
        (int before, GatedStore store, MpcSignerClient client, Task<MpcKey> creating) = await StartedWhileShut(user, calls);
        using MpcSignerClient _ = client;
        await calls.Seen("CompleteKeyGen").WaitAsync(Patience);

        Assert.False(creating.IsCompleted);
        Assert.Equal(before, await KeysOf(user));
        store.Open();
        using MpcKey key = await creating.WaitAsync(Patience);

        Assert.Equal(["BeginKeyGen", "CompleteKeyGen", "ConfirmKeyGen"], calls.Take());
        Assert.Equal(before + 1, await KeysOf(user));
        Assert.Equal(key.PublicKeyPem, (await client.GetKeyAsync(key.KeyId)).PublicKeyPem);
        await OpeningChecks.AssertSigns(client, key);
    }

    [Fact]
    public async Task A_profile_that_does_not_open_after_both_round_trips_leaves_no_key_and_its_own_error_is_reported()
    {
        const string user = "keygen-opening-refused";
        var calls = new CallLog();
        (int before, GatedStore store, MpcSignerClient client, Task<MpcKey> creating) = await StartedWhileShut(user, calls);
        using MpcSignerClient _ = client;
        await calls.Seen("CompleteKeyGen").WaitAsync(Patience);
        store.Refuse();
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => creating.WaitAsync(Patience));

        Assert.Equal(MpcErrorReason.WrongPassphrase, refused.Reason);
        string[] methods = calls.Take();
        Assert.Contains("CompleteKeyGen", methods);
        Assert.DoesNotContain("ConfirmKeyGen", methods);
        Assert.Equal(before, await KeysOf(user));
        // The user's next key generation, with the profile that opens, is not held up by the abandoned one.
        Assert.Equal(before + 1, await DeviceKnownTo(user));
    }

    [Fact]
    public async Task Parameters_the_server_does_not_know_yet_are_proved_with_the_opened_profile_and_need_no_confirmation()
    {
        var calls = new CallLog();
        var store = new GatedStore(server.DeviceProfiles, server.RingPedersen.Parameters);
        using MpcSignerClient client = Client("keygen-opening-new-user", store, calls);

        Task<MpcKey> creating = client.CreateKeyAsync(CurveKind.P256);
        await calls.Seen("BeginKeyGen").WaitAsync(Patience);
        // Round 3 must carry Πprm, which needs the secret: nothing more is sent until the profile opens.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(["BeginKeyGen"], calls.Take());
        store.Open();
        using MpcKey key = await creating.WaitAsync(Patience);

        Assert.Equal(["CompleteKeyGen"], calls.Take());
        await OpeningChecks.AssertSigns(client, key);
    }

    [Fact]
    public async Task A_server_that_stores_at_completion_is_not_asked_to_confirm()
    {
        const string user = "keygen-opening-old-server";
        var requests = new OldServerRequests();
        (int before, GatedStore store, MpcSignerClient client, Task<MpcKey> creating) = await StartedWhileShut(user, requests);
        using MpcSignerClient _ = client;
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        store.Open();
        using MpcKey key = await creating.WaitAsync(Patience);

        Assert.Equal(1, requests.Stripped);
        Assert.Equal(before + 1, await KeysOf(user));
        await OpeningChecks.AssertSigns(client, key);
    }
}
