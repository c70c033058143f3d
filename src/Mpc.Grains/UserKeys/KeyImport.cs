using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;

namespace Mpc.Grains;

/// <summary>
/// Importing a key the user held whole: the client's seed share starts a refresh (<see cref="DeviceRefresh"/> runs its
/// rounds), and the key is claimed, stored and audited when the refresh completes.
/// </summary>
internal sealed class KeyImport(UserKeysContext context, KeyCreation creation)
{
    public RefreshStarted Begin(string keyId, ImportStart start, Func<PendingRefresh, RefreshRequest, RefreshStarted> open)
    {
        creation.RequireUnusedKeyId(keyId);
        context.PurgeExpired();
        context.Refreshes.RequireRoomForImport();
        // Every cap the store will check, before the client and the server spend a refresh on a refusal.
        UserStateLimits.RequireKeyCapacity(context.Keys.State, context.KeyGens.Count + context.Refreshes.Imports);
        UserStateLimits.RequireDeviceCapacity(context.Keys.State);
        context.RequirePaillierKeyRoom();
        string label = Identifiers.RequireLabel(start.Label);
        CurveKind curve = UserKeysContext.Protocol(() => EcCurve.Get(start.Curve).Kind);
        RefreshRequest request = UserKeysContext.Protocol(() => RefreshRequest.Decode(start.Request));
        RefreshServerSession session;
        try
        {
            session = UserKeysContext.Protocol(() => RefreshServerSession.FromImportedSeed(
                keyId, curve, start.SeedShare, start.PublicKey, context.Backend, context.Options.PaillierModulusBits));
            session.PaillierKeys = context.PaillierKeys;
            session.KnownClientParameters = context.KnownClientParameters;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(start.SeedShare);
        }
        try
        {
            // Refuse a certificate for another key, or one the user's chains have no room for, now, before the client
            // does the refresh's work.
            if (start.CertificateChain.Length > 0)
            {
                UserStateLimits.RequireChainCapacity(context.Keys.State, keyId, CertificateChains.Parse(start.CertificateChain, curve, start.PublicKey));
            }
        }
        catch
        {
            session.Dispose();
            throw;
        }
        return open(new PendingRefresh(keyId, session, RefreshPurpose.Import, null, [], ClientKeyShare.PrimaryDevice, label, curve,
            context.Refreshes.NewExpiry(), start), request);
    }

    public async Task<RefreshCompletion> Store(PendingRefresh pending, ServerKeyShare share)
    {
        EcCurve curve = EcCurve.Get(pending.Curve);
        (StoredKey stored, StoredDevice device) = await creation.StoreNewKey(pending.KeyId, share, pending.Label, imported: true, pending.Import!.CertificateChain);
        context.Logger.LogInformation("Imported key {KeyId} on {Curve}", pending.KeyId, curve.Name);
        context.Audit.Record(pending.KeyId, AuditEventKind.Import, device.DeviceId, default, AuditOutcomes.Ok,
            $"{curve.Name}; {stored.CertificateChain.Count} certificate(s)");
        return new RefreshCompletion(context.Summarize(stored), DeviceRules.Summarize(device));
    }
}
