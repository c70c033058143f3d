using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Protocol;

namespace Mpc.Client.Tests.Sdk;

/// <summary>
/// A device label the server would refuse (<see cref="DeviceLabels"/>: a control, format or invisible character) is refused by
/// the SDK before anything is sent, with the server's wording, for every call that carries one.
/// </summary>
[Collection("server")]
public sealed class DeviceLabelTests(ServerFixture server)
{
    public static TheoryData<string> HiddenLabels => ["phone\u202Egnp.exe", "\u2066laptop\u2069", "work\u200Fphone", "a\u061Cb", "tab\there", "pho\u200Bne", "lap\u200Dtop", "\uFEFFwork", "soft\u00ADhyphen", "tag\U000E0041", "line\u2028break", new string('x', DeviceLabels.MaxLength + 1)];

    [Fact]
    public void A_lone_surrogate_is_not_a_label_but_emoji_and_accents_are()
    {
        // Not in the theory above: xUnit's theory data would carry it as U+FFFD. gRPC would send it so too.
        Assert.False(DeviceLabels.IsValid("lone\uD800surrogate"));
        Assert.False(DeviceLabels.IsValid("\uDC00"));
        Assert.True(DeviceLabels.IsValid("Zoë's phone \U0001F4F1"));
        Assert.True(DeviceLabels.IsValid("\u2764\uFE0F work"));
        Assert.True(DeviceLabels.IsValid(""));
    }

    [Theory]
    [MemberData(nameof(HiddenLabels))]
    public async Task A_label_with_a_hidden_character_is_refused_before_any_call(string label)
    {
        const string user = "hidden-device-label";
        var calls = new CallLog();
        using var client = new MpcSignerClient(server.Address, server.Token(user),
            new MpcSignerClientOptions { DeviceProfileStore = server.DeviceProfiles, HttpHandler = calls });
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        calls.Take();
        using var whole = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        ArgumentException[] refused =
        [
            await Assert.ThrowsAsync<ArgumentException>(() => client.CreateBackupAsync(key, label)),
            await Assert.ThrowsAsync<ArgumentException>(() => client.EnrolDeviceAsync(key.Share, label)),
            await Assert.ThrowsAsync<ArgumentException>(() => client.RestoreBackupAsync(key.Share, label)),
            await Assert.ThrowsAsync<ArgumentException>(() => client.ImportKeyAsync(CurveKind.P256, whole.ExportParameters(true).D, label: label)),
        ];

        Assert.All(refused, e =>
        {
            Assert.Equal("label", e.ParamName);
            Assert.StartsWith(DeviceLabels.Invalid, e.Message, StringComparison.Ordinal);
        });
        Assert.Empty(calls.Take());
    }
}
