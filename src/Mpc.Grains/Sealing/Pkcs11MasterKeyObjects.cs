using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Mpc.Grains.Sealing;

/// <summary>
/// The master-key objects in one PKCS#11 token, seen through a logged-in session: finding an AES key by label
/// (and CKA_ID), refusing unsuitable key objects, generating a new one, and naming it as a KEK id.
/// Not thread-safe: <see cref="Pkcs11KeyEncryptionKeyProvider"/> calls it under its session lock.
/// </summary>
internal sealed class Pkcs11MasterKeyObjects(ISession session, string tokenLabel)
{
    private const int MasterKeySize = 32;
    private const int CkaIdSize = 16;

    /// <summary>The AES key labelled <paramref name="label"/>; with <paramref name="kekId"/>, the one whose CKA_ID matches it.</summary>
    public (IObjectHandle Handle, byte[] Id)? Find(string label, string? kekId = null)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        List<IObjectHandle> handles = session.FindAllObjects(
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attributes.Create(CKA.CKA_LABEL, label),
        ]);
        var candidates = handles.Select(h => (Handle: h, Id: ReadId(h))).ToList();
        if (kekId is not null)
        {
            candidates = candidates.Where(c => string.Equals(FormatKeyId(label, c.Id), kekId, StringComparison.Ordinal)).ToList();
        }
        if (candidates.Count == 0)
        {
            return null;
        }
        if (candidates.Count > 1)
        {
            throw new KeyEncryptionKeyException($"Token '{tokenLabel}' holds {candidates.Count} AES keys labelled '{label}'; the label must name one key.");
        }
        CheckKeyObject(candidates[0].Handle, label);
        return candidates[0];
    }

    private byte[] ReadId(IObjectHandle handle)
    {
        byte[] id = session.GetAttributeValue(handle, [CKA.CKA_ID])[0].GetValueAsByteArray() ?? [];
        return id;
    }

    /// <summary>Refuses a key object that is not a token-resident, sensitive, non-extractable AES-256 key.</summary>
    private void CheckKeyObject(IObjectHandle handle, string label)
    {
        List<IObjectAttribute> values = session.GetAttributeValue(handle,
            [CKA.CKA_TOKEN, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_VALUE_LEN, CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT, CKA.CKA_ID]);
        var problems = new List<string>();
        if (!values[0].GetValueAsBool())
        {
            problems.Add("not a token object");
        }
        if (!values[1].GetValueAsBool())
        {
            problems.Add("not sensitive");
        }
        if (values[2].GetValueAsBool())
        {
            problems.Add("extractable");
        }
        if (values[3].GetValueAsUlong() != MasterKeySize)
        {
            problems.Add($"{values[3].GetValueAsUlong()} bytes, not {MasterKeySize}");
        }
        if (!values[4].GetValueAsBool() || !values[5].GetValueAsBool())
        {
            problems.Add("not usable for encrypt and decrypt");
        }
        if ((values[6].GetValueAsByteArray() ?? []).Length == 0)
        {
            problems.Add("no CKA_ID");
        }
        if (problems.Count > 0)
        {
            throw new KeyEncryptionKeyException($"The key labelled '{label}' in token '{tokenLabel}' is unsuitable as a master key: {string.Join(", ", problems)}.");
        }
    }

    public (IObjectHandle Handle, byte[] Id) Generate(string label)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        byte[] id = RandomNumberGenerator.GetBytes(CkaIdSize);
        using IMechanism mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
        IObjectHandle handle = session.GenerateKey(mechanism,
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attributes.Create(CKA.CKA_VALUE_LEN, (ulong)MasterKeySize),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, id),
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_SENSITIVE, true),
            attributes.Create(CKA.CKA_EXTRACTABLE, false),
            attributes.Create(CKA.CKA_MODIFIABLE, false),
            attributes.Create(CKA.CKA_ENCRYPT, true),
            attributes.Create(CKA.CKA_DECRYPT, true),
            attributes.Create(CKA.CKA_WRAP, false),
            attributes.Create(CKA.CKA_UNWRAP, false),
            attributes.Create(CKA.CKA_SIGN, false),
            attributes.Create(CKA.CKA_VERIFY, false),
            attributes.Create(CKA.CKA_DERIVE, false),
        ]);
        return (handle, id);
    }

    public string FormatKeyId(string label, byte[] ckaId) =>
        Pkcs11KeyEncryptionKeyProvider.KeyIdPrefix + tokenLabel + "/" + label + "/" + Convert.ToHexStringLower(SHA256.HashData(ckaId).AsSpan(0, 8));
}
