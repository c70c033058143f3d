using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Mpc.Grains.Abstractions;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Mpc.Grains.Sealing;

/// <summary>
/// One loaded PKCS#11 library per path, shared by every provider in the process and finalized when the last
/// one lets go. PKCS#11 allows one C_Initialize per process, and a token's login state belongs to the whole
/// application, not to a session: a second C_Login answers CKR_USER_ALREADY_LOGGED_IN without checking the
/// PIN, and one C_Logout logs every session out. So logins are counted here per slot, and a provider that
/// joins a slot already logged in must present the same PIN (compared as an HMAC under a per-process key).
/// </summary>
internal sealed class Pkcs11Module
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, Pkcs11Module> Loaded = new(StringComparer.Ordinal);
    private static readonly byte[] PinMacKey = RandomNumberGenerator.GetBytes(32);

    private readonly string _path;
    private readonly Dictionary<ulong, LoginState> _logins = [];
    private int _references;

    static Pkcs11Module()
    {
        // Pkcs11Interop 5.x imports dlopen/dlsym from "libdl". glibc 2.34+ ships only libdl.so.2 (the symbols
        // live in libc), and without libc6-dev there is no libdl.so symlink: map the name explicitly
        // (Pkcs11Interop/Pkcs11Interop#239). Once per process: an assembly takes only one resolver.
        NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, ResolveLibdl);
    }

    private Pkcs11Module(string path, IPkcs11Library library)
    {
        _path = path;
        Library = library;
    }

    public IPkcs11Library Library { get; }

    public static Pkcs11Module Acquire(string libraryPath)
    {
        string path = Path.GetFullPath(libraryPath);
        lock (Gate)
        {
            if (!Loaded.TryGetValue(path, out Pkcs11Module? module))
            {
                if (!File.Exists(path))
                {
                    throw new KeyEncryptionKeyException($"The PKCS#11 library '{path}' does not exist.");
                }
                var factories = new Pkcs11InteropFactories();
                IPkcs11Library library;
                try
                {
                    library = factories.Pkcs11LibraryFactory.LoadPkcs11Library(factories, path, AppType.MultiThreaded);
                }
                catch (Exception ex) when (ex is Pkcs11Exception or UnmanagedException or DllNotFoundException or EntryPointNotFoundException)
                {
                    throw new KeyEncryptionKeyException($"The PKCS#11 library '{path}' could not be loaded and initialised: {ex.Message}", ex);
                }
                module = new Pkcs11Module(path, library);
                Loaded.Add(path, module);
            }
            module._references++;
            return module;
        }
    }

    /// <summary>Logs <paramref name="session"/>'s token in, or checks the PIN against the login already held.</summary>
    public void Login(ISession session, ulong slotId, string tokenLabel, string pin)
    {
        byte[] mac = HMACSHA256.HashData(PinMacKey, Encoding.UTF8.GetBytes(pin));
        lock (Gate)
        {
            if (_logins.TryGetValue(slotId, out LoginState? existing))
            {
                if (!CryptographicOperations.FixedTimeEquals(existing.PinMac, mac))
                {
                    throw new KeyEncryptionKeyException($"PKCS#11 login to token '{tokenLabel}' failed: the PIN is incorrect.");
                }
                existing.Count++;
                return;
            }
            try
            {
                session.Login(CKU.CKU_USER, pin);
            }
            catch (Pkcs11Exception ex) when (ex.RV is CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_INVALID or CKR.CKR_PIN_LEN_RANGE)
            {
                throw new KeyEncryptionKeyException($"PKCS#11 login to token '{tokenLabel}' failed: the PIN is incorrect ({ex.RV}).", ex);
            }
            catch (Pkcs11Exception ex) when (ex.RV is CKR.CKR_PIN_LOCKED)
            {
                throw new KeyEncryptionKeyException($"PKCS#11 login to token '{tokenLabel}' failed: the user PIN is locked ({ex.RV}).", ex);
            }
            catch (Pkcs11Exception ex) when (ex.RV is CKR.CKR_USER_ALREADY_LOGGED_IN)
            {
                // Logged in by someone else in this process (not through this class): the PIN was not checked,
                // but the token is open to this application either way.
            }
            catch (Pkcs11Exception ex)
            {
                throw new KeyEncryptionKeyException($"PKCS#11 login to token '{tokenLabel}' failed: {ex.RV}.", ex);
            }
            _logins.Add(slotId, new LoginState(mac));
        }
    }

    /// <summary>Releases one login; the last one logs the token out.</summary>
    public void Logout(ISession session, ulong slotId)
    {
        lock (Gate)
        {
            if (!_logins.TryGetValue(slotId, out LoginState? login) || --login.Count > 0)
            {
                return;
            }
            _logins.Remove(slotId);
            try
            {
                session.Logout();
            }
            catch (Pkcs11Exception)
            {
                // Already logged out (token removed, library reset): nothing left to undo.
            }
        }
    }

    /// <summary>Drops one reference; the last one finalizes and unloads the library.</summary>
    public void Release()
    {
        lock (Gate)
        {
            if (--_references > 0)
            {
                return;
            }
            Loaded.Remove(_path);
            Library.Dispose();
        }
    }

    private static IntPtr ResolveLibdl(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name == "libdl" && OperatingSystem.IsLinux())
        {
            foreach (string candidate in new[] { "libdl.so.2", "libc.so.6", "libdl.so" })
            {
                if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out IntPtr handle))
                {
                    return handle;
                }
            }
        }
        return IntPtr.Zero;
    }

    private sealed class LoginState(byte[] pinMac)
    {
        public byte[] PinMac { get; } = pinMac;

        public int Count { get; set; } = 1;
    }
}
