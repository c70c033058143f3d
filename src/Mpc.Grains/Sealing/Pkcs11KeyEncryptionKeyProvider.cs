using System.Security.Cryptography;
using System.Text;
using Mpc.Grains.Abstractions;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Net.Pkcs11Interop.HighLevelAPI.MechanismParams;

namespace Mpc.Grains.Sealing;

/// <summary>
/// A KEK that never leaves a PKCS#11 token: an AES-256 secret key object (CKA_TOKEN, CKA_PRIVATE,
/// CKA_SENSITIVE, not CKA_EXTRACTABLE, usable only for encrypt/decrypt) found by its label. Data keys are
/// sent to the token and come back wrapped; the master key itself is never in this process's memory.
/// </summary>
/// <remarks>
/// <para>
/// Mechanism: CKM_AES_GCM through C_Encrypt/C_Decrypt, a fresh random 96-bit IV per wrap, a 128-bit tag,
/// and the associated data <c>"mpc-signer/kek-wrap/pkcs11/v1|" + KeyId</c>, so a wrapped key is bound to
/// the master key that made it and any altered byte fails the tag. AES-GCM rather than RFC 5649 key wrap
/// (CKM_AES_KEY_WRAP_PAD in SoftHSM; CKM_AES_KEY_WRAP_KWP in PKCS#11 3.0): both are integrity-checked,
/// but only GCM takes associated data, it works on plain bytes (no session key object to import for
/// C_WrapKey), and SoftHSM 2.6 and the common HSMs offer it for C_Encrypt. Random IVs keep a master key
/// safe for 2^32 wraps (NIST SP 800-38D), far beyond one wrap per sealed share; rotate long before.
/// </para>
/// <para>
/// Wrapped format: mechanism tag (1 byte, 1 = AES-GCM), IV (12), ciphertext (32), tag (16). The tag byte
/// lets a token without GCM get another mechanism later without ambiguity.
/// </para>
/// <para>
/// <see cref="KeyId"/> is <c>"pkcs11:" + token label + "/" + key label + "/" + hex(SHA-256(CKA_ID)[..8])</c>.
/// Each key object gets a random CKA_ID when generated, so a new master key (rotation: a new label) has a
/// new KeyId, and <see cref="UnwrapAsync"/> finds an older key still in the token by the label and id
/// named in the kekId. Keys from another token or no longer present are refused.
/// </para>
/// <para>
/// One PKCS#11 session per provider, opened and logged in at construction, used under a lock: calls are
/// serialised per provider (a wrap is a few microseconds in the token). Dispose logs out (when no other
/// provider in the process still uses the token) and finalizes the library when the last provider goes.
/// </para>
/// </remarks>
public sealed class Pkcs11KeyEncryptionKeyProvider : IKeyEncryptionKeyProvider, IDisposable
{
    public const string KeyIdPrefix = "pkcs11:";

    private const byte MechanismAesGcm = 1;
    private const int DataKeySize = 32;
    private const int IvSize = 12;
    private const int TagSize = 16;
    private const string AssociatedDataPrefix = "mpc-signer/kek-wrap/pkcs11/v1|";

    private readonly Lock _gate = new();
    private readonly Pkcs11Module _module;
    private readonly ISession _session;
    private readonly Pkcs11MasterKeyObjects _masterKeys;
    private readonly ulong _slotId;
    private readonly string _tokenLabel;
    private readonly IObjectHandle _currentKey;
    private readonly Dictionary<string, IObjectHandle> _keys = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Loads the library, logs in to the token and finds (or, if allowed, generates) the current master key.</summary>
    /// <exception cref="KeyEncryptionKeyException">No such library, token or key; wrong PIN; unsuitable key object.</exception>
    public Pkcs11KeyEncryptionKeyProvider(Pkcs11Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.LibraryPath, nameof(options));
        ArgumentException.ThrowIfNullOrEmpty(options.TokenLabel, nameof(options));
        ArgumentException.ThrowIfNullOrEmpty(options.KeyLabel, nameof(options));
        ArgumentNullException.ThrowIfNull(options.Pin, nameof(options));
        if (options.KeyLabel.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException("The PKCS#11 key label must not contain '/': it is a separator in the KEK id.", nameof(options));
        }

        _tokenLabel = options.TokenLabel;
        KeyLabel = options.KeyLabel;
        _module = Pkcs11Module.Acquire(options.LibraryPath);
        bool loggedIn = false;
        ISession? session = null;
        try
        {
            ISlot slot = FindSlot(_module.Library, options.TokenLabel);
            _slotId = slot.SlotId;
            RequireGcm(slot);
            session = slot.OpenSession(SessionType.ReadWrite);
            _module.Login(session, _slotId, _tokenLabel, options.Pin);
            loggedIn = true;
            _session = session;
            _masterKeys = new Pkcs11MasterKeyObjects(session, _tokenLabel);

            (IObjectHandle Handle, byte[] Id)? current = _masterKeys.Find(options.KeyLabel);
            if (current is null)
            {
                if (!options.CreateKeyIfMissing)
                {
                    throw new KeyEncryptionKeyException(
                        $"Token '{_tokenLabel}' holds no AES key labelled '{options.KeyLabel}'. Create it (first set-up: CreateKeyIfMissing, `--pkcs11-create-key`) or fix the label.");
                }
                current = _masterKeys.Generate(options.KeyLabel);
            }
            _currentKey = current.Value.Handle;
            KeyId = _masterKeys.FormatKeyId(options.KeyLabel, current.Value.Id);
            _keys[KeyId] = _currentKey;
        }
        catch
        {
            if (session is not null)
            {
                if (loggedIn)
                {
                    _module.Logout(session, _slotId);
                }
                session.Dispose();
            }
            _module.Release();
            throw;
        }
    }

    /// <summary>"pkcs11:" + token label + "/" + key label + "/" + a short hash of the key object's CKA_ID.</summary>
    public string KeyId { get; }

    /// <summary>The label of the current master key.</summary>
    public string KeyLabel { get; }

    public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (dataKey.Length != DataKeySize)
        {
            throw new ArgumentException($"A data key is {DataKeySize} bytes.", nameof(dataKey));
        }
        byte[] iv = RandomNumberGenerator.GetBytes(IvSize);
        byte[] plain = GC.AllocateUninitializedArray<byte>(DataKeySize, pinned: true);
        try
        {
            dataKey.Span.CopyTo(plain);
            byte[] sealedKey;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                using IMechanism mechanism = GcmMechanism(iv, KeyId);
                try
                {
                    sealedKey = _session.Encrypt(mechanism, _currentKey, plain);
                }
                catch (Pkcs11Exception ex)
                {
                    throw new KeyEncryptionKeyException($"The token refused to wrap a data key under KEK '{KeyId}' ({ex.RV}).", ex);
                }
            }
            if (sealedKey.Length != DataKeySize + TagSize)
            {
                throw new KeyEncryptionKeyException($"The token returned {sealedKey.Length} bytes for an AES-GCM wrap; expected {DataKeySize + TagSize}.");
            }
            var output = new byte[1 + IvSize + sealedKey.Length];
            output[0] = MechanismAesGcm;
            iv.CopyTo(output, 1);
            sealedKey.CopyTo(output, 1 + IvSize);
            return ValueTask.FromResult(output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    public ValueTask<byte[]> UnwrapAsync(string kekId, ReadOnlyMemory<byte> wrapped, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(kekId);
        ct.ThrowIfCancellationRequested();
        if (wrapped.Length != 1 + IvSize + DataKeySize + TagSize)
        {
            throw new KeyEncryptionKeyException($"The wrapped data key is {wrapped.Length} bytes; an AES-GCM wrap is {1 + IvSize + DataKeySize + TagSize}.");
        }
        if (wrapped.Span[0] != MechanismAesGcm)
        {
            throw new KeyEncryptionKeyException($"The wrapped data key names mechanism {wrapped.Span[0]}; this provider knows only AES-GCM ({MechanismAesGcm}).");
        }
        byte[] iv = wrapped.Slice(1, IvSize).ToArray();
        byte[] input = wrapped[(1 + IvSize)..].ToArray();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            IObjectHandle key = ResolveKey(kekId);
            using IMechanism mechanism = GcmMechanism(iv, kekId);
            byte[] dataKey;
            try
            {
                dataKey = _session.Decrypt(mechanism, key, input);
            }
            catch (Pkcs11Exception ex)
            {
                throw new KeyEncryptionKeyException($"The wrapped data key failed authentication under KEK '{kekId}' ({ex.RV}).", ex);
            }
            if (dataKey.Length != DataKeySize)
            {
                CryptographicOperations.ZeroMemory(dataKey);
                throw new KeyEncryptionKeyException($"The unwrapped data key under KEK '{kekId}' has the wrong length.");
            }
            return ValueTask.FromResult(dataKey);
        }
    }

    /// <summary>Logs out (unless another provider still uses the token) and releases the library.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _module.Logout(_session, _slotId);
            _session.Dispose();
            _module.Release();
        }
    }

    /// <summary>For tests and diagnostics: runs <paramref name="action"/> on this provider's logged-in session.</summary>
    internal T WithSession<T>(Func<ISession, IObjectHandle, T> action)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return action(_session, _currentKey);
        }
    }

    private static ISlot FindSlot(IPkcs11Library library, string tokenLabel)
    {
        List<ISlot> slots = library.GetSlotList(SlotsType.WithTokenPresent);
        var matches = slots.Where(s => string.Equals(s.GetTokenInfo().Label.Trim(), tokenLabel, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new KeyEncryptionKeyException(
                $"No PKCS#11 token labelled '{tokenLabel}' is present ({slots.Count} token(s) found: {string.Join(", ", slots.Select(s => "'" + s.GetTokenInfo().Label.Trim() + "'"))})."),
            _ => throw new KeyEncryptionKeyException($"{matches.Count} PKCS#11 tokens are labelled '{tokenLabel}'; labels must be unique."),
        };
    }

    private static void RequireGcm(ISlot slot)
    {
        IMechanismInfo info;
        try
        {
            info = slot.GetMechanismInfo(CKM.CKM_AES_GCM);
        }
        catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_MECHANISM_INVALID)
        {
            throw new KeyEncryptionKeyException("The PKCS#11 token does not support CKM_AES_GCM, which this provider wraps data keys with.", ex);
        }
        if (!info.MechanismFlags.Encrypt || !info.MechanismFlags.Decrypt)
        {
            throw new KeyEncryptionKeyException("The PKCS#11 token offers CKM_AES_GCM, but not for C_Encrypt and C_Decrypt.");
        }
    }

    private IMechanism GcmMechanism(byte[] iv, string kekId)
    {
        var factories = _session.Factories;
        byte[] aad = Encoding.UTF8.GetBytes(AssociatedDataPrefix + kekId);
        ICkGcmParams parameters = factories.MechanismParamsFactory.CreateCkGcmParams(iv, IvSize * 8, aad, TagSize * 8);
        return factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
    }

    private IObjectHandle ResolveKey(string kekId)
    {
        if (_keys.TryGetValue(kekId, out IObjectHandle? cached))
        {
            return cached;
        }
        string prefix = KeyIdPrefix + _tokenLabel + "/";
        if (!kekId.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new KeyEncryptionKeyException($"The data key was wrapped under KEK '{kekId}', which is not a key of PKCS#11 token '{_tokenLabel}' (current KEK '{KeyId}').");
        }
        string rest = kekId[prefix.Length..];
        int slash = rest.LastIndexOf('/');
        if (slash <= 0)
        {
            throw new KeyEncryptionKeyException($"The KEK id '{kekId}' is malformed.");
        }
        string label = rest[..slash];
        (IObjectHandle Handle, byte[] Id)? found = _masterKeys.Find(label, kekId);
        if (found is null || !string.Equals(_masterKeys.FormatKeyId(label, found.Value.Id), kekId, StringComparison.Ordinal))
        {
            throw new KeyEncryptionKeyException(
                $"The data key was wrapped under KEK '{kekId}', but token '{_tokenLabel}' no longer holds that key (current KEK '{KeyId}').");
        }
        _keys[kekId] = found.Value.Handle;
        return found.Value.Handle;
    }
}
