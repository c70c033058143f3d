using System.Runtime.InteropServices;

namespace Mpc.Client.KeyStore;

/// <summary>
/// Argon2id through the reference implementation, libargon2 (the Password Hashing Competition's code, Debian's
/// <c>libargon2-1</c>), when the system has it. It fills its lanes on threads of its own and uses SIMD: on this project's
/// 2-core machines RFC 9106's second option (t=3, 64 MiB, p=4) takes about 0.12 s there against about 0.7 s in
/// BouncyCastle's single-threaded managed code, and every sealed command pays one. The output is the same function's
/// (tests compare the two); where the library does not load (another OS, the browser) BouncyCastle computes it.
/// </summary>
internal static unsafe class NativeArgon2id
{
    private static readonly string[] Names = OperatingSystem.IsWindows()
        ? ["argon2.dll", "libargon2.dll"]
        : OperatingSystem.IsMacOS()
            ? ["libargon2.1.dylib", "/opt/homebrew/lib/libargon2.1.dylib", "/usr/local/lib/libargon2.1.dylib"]
            : ["libargon2.so.1", "libargon2.so"];

    /// <summary>argon2id_hash_raw, or null when libargon2 is not there. Loaded once; never changes after.</summary>
    private static readonly Lazy<IntPtr> HashRaw = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True when libargon2 loaded.</summary>
    public static bool IsAvailable => HashRaw.Value != IntPtr.Zero;

    /// <summary>
    /// Argon2id version 1.3 of <paramref name="passphrase"/> and <paramref name="salt"/> into <paramref name="output"/>;
    /// false when libargon2 is not available (the caller computes it in managed code).
    /// </summary>
    /// <exception cref="InvalidOperationException">libargon2 refused the parameters (its error code, never an input).</exception>
    public static bool TryDerive(int iterations, int memoryKiB, int parallelism, ReadOnlySpan<byte> passphrase, ReadOnlySpan<byte> salt, Span<byte> output)
    {
        IntPtr function = HashRaw.Value;
        if (function == IntPtr.Zero)
        {
            return false;
        }
        var hash = (delegate* unmanaged<uint, uint, uint, byte*, nuint, byte*, nuint, byte*, nuint, int>)function;
        int result;
        fixed (byte* pwd = passphrase)
        fixed (byte* saltPtr = salt)
        fixed (byte* outPtr = output)
        {
            result = hash((uint)iterations, (uint)memoryKiB, (uint)parallelism,
                pwd, (nuint)passphrase.Length, saltPtr, (nuint)salt.Length, outPtr, (nuint)output.Length);
        }
        if (result != 0)
        {
            throw new InvalidOperationException($"libargon2 refused the Argon2id parameters (error {result}).");
        }
        return true;
    }

    private static IntPtr Load()
    {
        try
        {
            foreach (string name in Names)
            {
                if (NativeLibrary.TryLoad(name, typeof(NativeArgon2id).Assembly, null, out IntPtr library)
                    && NativeLibrary.TryGetExport(library, "argon2id_hash_raw", out IntPtr function))
                {
                    return function;
                }
            }
        }
        catch (PlatformNotSupportedException)
        {
            // No native libraries at all (the browser): the managed implementation serves.
        }
        return IntPtr.Zero;
    }
}
