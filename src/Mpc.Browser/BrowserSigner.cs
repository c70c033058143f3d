using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices.JavaScript;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.Json;
using Mpc.Client;
using Mpc.Client.Documents;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;

namespace Mpc.Browser;

/// <summary>
/// The browser client's entry points, called by wwwroot/mpc-worker.js inside a Web Worker: the SDK's
/// <see cref="MpcSignerClient"/> over gRPC-Web (the browser's fetch), with <see cref="JsBigIntBackend"/>. The worker
/// seals every secret these methods hand out (<see cref="ExportDevice"/>, and each new share through
/// <see cref="BrowserVault"/>) before it stores it, and zeroes its copy; nothing here touches storage directly. Secrets cross to and from the worker only through
/// <see cref="BrowserSecrets"/>, never as marshalled byte arrays.
/// </summary>
[SupportedOSPlatform("browser")]
public static partial class BrowserSigner
{
    // [JSExport] methods are static, so the one session of this runtime (one per worker) lives here; a worker
    // serves one page's signer, and the page starts a new worker for another server or user.
    private static BrowserSession? _session;

    private static BrowserSession Session => _session ?? throw new InvalidOperationException("Not connected: call connect(server, token) first.");

    /// <summary>Sets the server (the gRPC-Web address) and the bearer token for the calls that follow.</summary>
    [JSExport]
    public static void Connect(string server, string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(server);
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        _session?.Dispose();
        _session = new BrowserSession(new Uri(server), token);
    }

    /// <summary>
    /// Creates this device's ring-Pedersen parameters (the client is their verifier): two 1024-bit Blum primes found in
    /// JS BigInt, (s, t) derived from them as the server derives its own (docs/protocol.md, "The client's parameters
    /// in the browser"). Returns the milliseconds it took.
    /// </summary>
    [JSExport]
    public static double SetupDevice()
    {
        long start = Stopwatch.GetTimestamp();
        var backend = new JsBigIntBackend();
        using PaillierPrivateKey primes = PaillierPrivateKey.Generate(backend, ProofParameters.RingPedersenMinimumBits);
        Session.UseDevice(RingPedersenSecret.DeriveFromPaillier(primes));
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>
    /// Hands the device parameters as secret bytes to the worker, to seal (<see cref="BrowserSecrets.Hand"/>: the worker
    /// zeroes its copy after, this side at once).
    /// </summary>
    [JSExport]
    public static void ExportDevice() => BrowserSecrets.Hand(Session.Device.ExportSecret());

    /// <summary>Loads device parameters that <see cref="ExportDevice"/> wrote (handed over by the worker, <see cref="BrowserSecrets.Take"/>), after checking them.</summary>
    [JSExport]
    public static void ImportDevice()
    {
        byte[] secret = BrowserSecrets.Take();
        try
        {
            Session.UseDevice(RingPedersenSecret.ImportSecret(secret, new JsBigIntBackend()));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// Distributed key generation on <paramref name="curve"/> ("p256", "p384", "secp256k1"); JSON of the key. The checked
    /// share is sealed as the key's pending record before the server is asked to store the key (the SDK's pending-share
    /// handler), so a tab closed, a worker lost or a confirmation unanswered (<see cref="MpcKeyGenOutcomeUnknownException"/>)
    /// after that point leaves it in IndexedDB, and <see cref="SettlePending"/> stores or finds the key on the next open,
    /// as for a refresh whose reply was lost. The worker makes the pending record current once this returns.
    /// </summary>
    [JSExport]
    public static async Task<string> CreateKey(string curve)
    {
        _ = Session.Device; // never let the SDK fall back to its own (safe-prime) device setup here
        MpcKey key;
        bool sealedPending = false;
        try
        {
            key = await Session.Client.CreateKeyAsync(EcCurve.Parse(curve), async (share, cancellationToken) =>
            {
                await BrowserVault.StorePendingAsync(share, cancellationToken).ConfigureAwait(false);
                sealedPending = true;
            }).ConfigureAwait(false);
            Session.LoseKeyGenReplyIfAskedForTest(key);
        }
        catch (MpcKeyGenOutcomeUnknownException e)
        {
            e.PendingShare?.Dispose(); // sealed already, by the handler
            throw new MpcSignerException(MpcErrorReason.OutcomeUnknown,
                $"{e.Message}; its share is sealed in this browser as pending: openStoredKeys() settles it", e);
        }
        if (!sealedPending)
        {
            // A server that stored the key without awaiting a confirmation (one that predates it): sealed now, as the
            // pending record the worker makes current.
            try
            {
                await BrowserVault.StorePendingAsync(key.Share, CancellationToken.None).ConfigureAwait(false);
            }
            catch
            {
                key.Dispose();
                throw;
            }
        }
        Session.Add(key);
        return Describe(key);
    }

    /// <summary>Opens a stored share (<see cref="ClientKeyShare.ExportSecret"/>, unsealed and handed over by the worker, <see cref="BrowserSecrets.Take"/>); JSON of the key.</summary>
    [JSExport]
    public static string OpenShare()
    {
        byte[] secret = BrowserSecrets.Take();
        try
        {
            MpcKey key = Session.Client.OpenKey(ClientShareSecret.Import(secret, BrowserSession.Arithmetic));
            Session.Add(key);
            return Describe(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Signs <paramref name="data"/> (SHA-256; SHA-384 on P-384) with the two-party protocol; the DER signature, verified.</summary>
    [JSExport]
    public static async Task<string> Sign(string keyId, [JSMarshalAs<JSType.Array<JSType.Number>>] byte[] data)
    {
        MpcKey key = Session.Key(keyId);
        MpcSignature signature = await Session.Client.SignDataAsync(key, data).ConfigureAwait(false);
        return Convert.ToBase64String(signature.ToDer());
    }

    /// <summary>
    /// Signs <paramref name="data"/> as a detached CMS (CAdES-BES attributes, the SDK's <c>CadesSignedData</c>) with the
    /// certificates in <paramref name="chainBase64"/> (DER, base64, the signer's first, separated by commas); the CMS as base64.
    /// </summary>
    [JSExport]
    public static async Task<string> SignCms(string keyId, [JSMarshalAs<JSType.Array<JSType.Number>>] byte[] data, string chainBase64)
    {
        MpcKey key = Session.Key(keyId);
        byte[][] chain = chainBase64.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Convert.FromBase64String).ToArray();
        // The SDK's CMS builder, in two halves so the two-party signature runs asynchronously between them.
        HashAlgorithmName digest = key.Curve == CurveKind.P384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;
        var cms = new CadesSignedData(data, digest, key.SubjectPublicKeyInfo, chain, DateTimeOffset.UtcNow);
        MpcSignature signature = await Session.Client.SignDigestAsync(key, cms.DigestToSign).ConfigureAwait(false);
        return Convert.ToBase64String(cms.Assemble(signature.ToDer()));
    }

    /// <summary>Signs <paramref name="data"/> as a compact JWS (the SDK's <c>SignJwsAsync</c>: ES256, ES384 or ES256K by the curve), verified.</summary>
    [JSExport]
    public static Task<string> SignJws(string keyId, [JSMarshalAs<JSType.Array<JSType.Number>>] byte[] data) =>
        Session.Client.SignJwsAsync(Session.Key(keyId), data);

    /// <summary>How many signatures of <paramref name="keyId"/> have their randomness prepared (it is computed when the worker is idle).</summary>
    [JSExport]
    public static int PreparedRandomness(string keyId) => Session.Key(keyId).PreparedRandomness;

    /// <summary>The server's keys of this user, as JSON: key id, curve, public key PEM, frozen, created.</summary>
    [JSExport]
    public static async Task<string> ListKeys()
    {
        IReadOnlyList<MpcKeyInfo> keys = await Session.Client.ListKeysAsync().ConfigureAwait(false);
        return JsonSerializer.Serialize(keys.Select(k => new Dictionary<string, object>
        {
            ["keyId"] = k.KeyId,
            ["curve"] = EcCurve.NameOf(k.Curve),
            ["publicKeyPem"] = k.PublicKeyPem,
            ["frozen"] = k.Frozen,
            ["createdAt"] = k.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
        }).ToList(), BrowserJson.Default.ListDictionaryStringObject);
    }

#if MPC_BROWSER_TEST_HOOKS
    /// <summary>
    /// Test builds only (-p:MpcBrowserTestHooks=true): the next refresh, restore or enrolment fails after the server
    /// switched, or the next key generation after the server stored the key, as a lost reply would. The normal build
    /// has no such method.
    /// </summary>
    [JSExport]
    public static void LoseNextReplyForTest() => Session.LoseNextReplyForTest();

    /// <summary>
    /// Test builds only (-p:MpcBrowserTestHooks=true): from now on in this worker, every ConfirmKeyGen is lost before it
    /// reaches the server, so a key generation ends with its outcome unknown and its key unstored. The normal build has
    /// no such method.
    /// </summary>
    [JSExport]
    public static void DropConfirmationsForTest() => Session.DropConfirmationsForTest();

    /// <summary>
    /// Test builds only (-p:MpcBrowserTestHooks=true): x2 of <paramref name="keyId"/> in hexadecimal, so a test can
    /// search the browser's storage for it. The normal build has no such method.
    /// </summary>
    [JSExport]
    public static string ShareScalarHexForTest(string keyId)
    {
        byte[] secret = Session.Key(keyId).Share.ExportSecret();
        var reader = new Mpc.Crypto.Encoding.WireReader(secret);
        reader.ReadUInt32("version");
        reader.ReadString("key id", 256);
        reader.ReadUInt32("curve");
        return Convert.ToHexStringLower(reader.ReadBytes("x2"));
    }

    /// <summary>
    /// Test builds only (-p:MpcBrowserTestHooks=true): this worker's clock moves <paramref name="minutes"/> forward, so a
    /// pending enrolment or a handover's wait expires without waiting. The normal build has no such method.
    /// </summary>
    [JSExport]
    public static void AdvanceClockForTest(double minutes) => Session.AdvanceClockForTest(TimeSpan.FromMinutes(minutes));

    /// <summary>
    /// Test builds only (-p:MpcBrowserTestHooks=true): the private key of a pending enrolment the worker unsealed
    /// (handed over, <see cref="BrowserSecrets.Take"/>, and zeroed here), in hexadecimal, so a test can search the
    /// browser's storage for it.
    /// </summary>
    [JSExport]
    public static string PendingEnrolmentKeyHexForTest()
    {
        byte[] secret = BrowserSecrets.Take();
        try
        {
            // Parsed (and its key pair checked) first; the private key is the last field of ExportSecret's layout.
            Mpc.Client.Custody.DeviceEnrolmentRequest.ImportSecret(secret).Dispose();
            return Convert.ToHexStringLower(secret.AsSpan(secret.Length - 32));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// Test builds only (-p:MpcBrowserTestHooks=true): JSON <c>{ count, notZeroed }</c> of every array that crossed
    /// between this side and the worker (<see cref="BrowserSecrets"/>), as they are now.
    /// </summary>
    [JSExport]
    public static string SecretCopiesForTest()
    {
        (int count, int notZeroed) = BrowserSecrets.CrossedForTest();
        return JsonSerializer.Serialize(new Dictionary<string, object> { ["count"] = count, ["notZeroed"] = notZeroed },
            BrowserJson.Default.DictionaryStringObject);
    }
#endif

    private static string Describe(MpcKey key) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["keyId"] = key.KeyId,
        ["curve"] = EcCurve.NameOf(key.Curve),
        ["publicKeyPem"] = key.PublicKeyPem,
    }, BrowserJson.Default.DictionaryStringObject);
}
