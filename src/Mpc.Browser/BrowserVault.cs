using System.Globalization;
using System.Runtime.InteropServices.JavaScript;
using System.Runtime.Versioning;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Browser;

/// <summary>
/// The worker's share store (wwwroot/mpc-vault.js, registered as module <c>mpc-custody</c>), as the SDK's
/// <see cref="PendingShareHandler"/>: a refresh, restore or enrolment seals its new share into IndexedDB as the key's
/// pending record before the server is asked to switch to it, as <c>PendingKeyFile</c> does with <c>FILE.pending</c>;
/// a new device's pending enrolment is sealed there too, as <c>mpc device request</c> writes its pending file.
/// </summary>
[SupportedOSPlatform("browser")]
internal static partial class BrowserVault
{
    private const string ModuleName = "mpc-custody";

    /// <summary>
    /// Seals <paramref name="pending"/> as its key's pending record; resolves once stored. The secret is handed over
    /// (<see cref="BrowserSecrets.Hand"/>, zeroed here at once) just before the call that takes it; the worker zeroes its copy.
    /// </summary>
    public static async ValueTask StorePendingAsync(ClientKeyShare pending, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        BrowserSecrets.Hand(pending.ExportSecret());
        await StorePending(pending.KeyId, EcCurve.NameOf(pending.Curve)).ConfigureAwait(false);
    }

    /// <summary>
    /// Seals a new device's pending enrolment (<see cref="DeviceEnrolmentRequest.ExportSecret"/>; the worker zeroes its
    /// copy; <see cref="BrowserSecrets.Hand"/>) as this user's one pending enrolment in the browser, with its expiry beside it; resolves once stored.
    /// </summary>
    public static async ValueTask StorePendingEnrolmentAsync(DeviceEnrolmentRequest request)
    {
        BrowserSecrets.Hand(request.ExportSecret());
        await StorePendingEnrolment(request.Request.KeyId, request.ExpiresAt.ToString("O", CultureInfo.InvariantCulture)).ConfigureAwait(false);
    }

    /// <summary>Deletes the sealed pending enrolment: the browser's <see cref="DeviceEnrolmentRequest.DestroyPendingFile"/>.</summary>
    public static async ValueTask DestroyPendingEnrolmentAsync() => await DestroyPendingEnrolment().ConfigureAwait(false);

    [JSImport("storePendingEnrolment", ModuleName)]
    private static partial Task StorePendingEnrolment(string keyId, string expiresAt);

    [JSImport("destroyPendingEnrolment", ModuleName)]
    private static partial Task DestroyPendingEnrolment();

    [JSImport("storePending", ModuleName)]
    private static partial Task StorePending(string keyId, string curve);
}
