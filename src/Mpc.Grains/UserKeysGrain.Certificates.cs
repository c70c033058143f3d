using System.Security.Cryptography.X509Certificates;
using Mpc.Grains.Audit;
using Microsoft.Extensions.Logging;
using Mpc.Crypto.Curves;

namespace Mpc.Grains;

/// <summary>The key record's certificate chain (docs/service.md, "Documents (CMS/CAdES-BES)").</summary>
public sealed partial class UserKeysGrain
{
    /// <summary>
    /// Frozen keys accept a chain too: it is public data, and a frozen key's certificate still identifies the
    /// signer of the documents it signed before it was frozen.
    /// </summary>
    public Task<KeySummary> SetCertificateChain(string keyId, byte[][] chainDer) => Observe(null, () => SetCertificateChainCore(keyId, chainDer));

    private async Task<KeySummary> SetCertificateChainCore(string keyId, byte[][] chainDer)
    {
        RequireKeyId(keyId);
        if (!state.State.Keys.TryGetValue(keyId, out StoredKey? key))
        {
            throw SignerErrors.UnknownKey(keyId);
        }
        List<byte[]> previous = key.CertificateChain;
        AssignCertificateChain(key, chainDer);
        try
        {
            UserStateLimits.RequireChainCapacity(state.State, keyId, key.CertificateChain);
        }
        catch
        {
            key.CertificateChain = previous;
            throw;
        }
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e) when (e is not SignerException)
        {
            key.CertificateChain = previous;
            logger.LogError(e, "Storing the certificate chain of key {KeyId} failed", keyId);
            throw new SignerException(SignerErrorKind.Internal, "The certificate chain could not be stored; the previous one is kept. Try again.");
        }
        logger.LogInformation("Set a certificate chain of {Count} certificates on key {KeyId}", key.CertificateChain.Count, keyId);
        string subject = "none";
        if (key.CertificateChain.Count > 0)
        {
            using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(key.CertificateChain[0]);
            subject = leaf.Subject;
        }
        audit.Record(keyId, AuditEventKind.Certificate, "", default, AuditOutcomes.Ok, subject);
        return Summarize(key);
    }

    /// <summary>
    /// Validates <paramref name="chainDer"/> against <paramref name="key"/> and assigns it, without writing state:
    /// for callers (such as a key import) that store the key and its chain in one write. On refusal
    /// (<see cref="SignerException"/>, InvalidArgument) the key is unchanged.
    /// </summary>
    internal static void AssignCertificateChain(StoredKey key, IReadOnlyList<byte[]> chainDer) =>
        key.CertificateChain = CertificateChains.Parse(chainDer, (CurveKind)key.Curve, key.PublicKey);
}
