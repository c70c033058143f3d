using System.Runtime.InteropServices;

namespace Mpc.Client.KeyStore;

/// <summary>
/// Argon2id through the reference implementation, libargon2 (the Password Hashing Competition's code, Debian's
/// <c>libargon2-1</c>), when the system has it. It fills its lanes on threads of its own, in compiled C (Debian builds its
/// portable code, 64-bit scalar arithmetic without SIMD: Debian bookworm's library holds no vector multiply): on this project's
/// 2-core machines RFC 9106's second option (t=3, 64 MiB, p=4) takes about 0.08 s there against about 0.7 s in
/// BouncyCastle's single-threaded managed code, and every sealed command pays one. The output is the same function's
/// (tests compare the two); where the library does not load (another OS, the browser) BouncyCastle computes it.
/// On Linux its memory comes from <see cref="HugePageMemory"/> through libargon2's own allocation hook (<c>argon2_ctx</c>):
/// 64 MiB in 4 KiB pages is 16 384 page faults in a fresh process, about a fifth of the derivation's wall clock.
/// </summary>
internal static unsafe class NativeArgon2id
{
    private static readonly string[] Names = OperatingSystem.IsWindows()
        ? ["argon2.dll", "libargon2.dll"]
        : OperatingSystem.IsMacOS()
            ? ["libargon2.1.dylib", "/opt/homebrew/lib/libargon2.1.dylib", "/usr/local/lib/libargon2.1.dylib"]
            : ["libargon2.so.1", "libargon2.so"];

    private const int Argon2id = 2;
    private const uint Version13 = 0x13;

    /// <summary>libargon2's entry points, or zeros when it is not there. Loaded once; never changes after.</summary>
    private static readonly Lazy<(IntPtr HashRaw, IntPtr Context)> Functions = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True when libargon2 loaded.</summary>
    public static bool IsAvailable => Functions.Value.HashRaw != IntPtr.Zero;

    /// <summary>
    /// Argon2id version 1.3 of <paramref name="passphrase"/> and <paramref name="salt"/> into <paramref name="output"/>;
    /// false when libargon2 is not available (the caller computes it in managed code).
    /// </summary>
    /// <exception cref="InvalidOperationException">libargon2 refused the parameters (its error code, never an input).</exception>
    public static bool TryDerive(int iterations, int memoryKiB, int parallelism, ReadOnlySpan<byte> passphrase, ReadOnlySpan<byte> salt, Span<byte> output)
    {
        (IntPtr hashRaw, IntPtr context) = Functions.Value;
        if (hashRaw == IntPtr.Zero)
        {
            return false;
        }
        int result;
        fixed (byte* pwd = passphrase)
        fixed (byte* saltPtr = salt)
        fixed (byte* outPtr = output)
        {
            result = -1;
            if (context != IntPtr.Zero && HugePageMemory.IsSupported)
            {
                var parameters = new Argon2Context
                {
                    Out = outPtr, OutLength = (uint)output.Length,
                    Password = pwd, PasswordLength = (uint)passphrase.Length,
                    Salt = saltPtr, SaltLength = (uint)salt.Length,
                    TimeCost = (uint)iterations, MemoryCost = (uint)memoryKiB, Lanes = (uint)parallelism, Threads = ThreadsFor(parallelism),
                    Version = Version13,
                    Allocate = &HugePageMemory.Allocate,
                    Free = &HugePageMemory.Free,
                };
                result = ((delegate* unmanaged<Argon2Context*, int, int>)context)(&parameters, Argon2id);
            }
            // The plain entry point (its memory from malloc) when the hook is missing or its mapping was refused.
            if (result != 0)
            {
                result = ((delegate* unmanaged<uint, uint, uint, byte*, nuint, byte*, nuint, byte*, nuint, int>)hashRaw)(
                    (uint)iterations, (uint)memoryKiB, (uint)parallelism, pwd, (nuint)passphrase.Length, saltPtr, (nuint)salt.Length, outPtr, (nuint)output.Length);
            }
        }
        if (result != 0)
        {
            throw new InvalidOperationException($"libargon2 refused the Argon2id parameters (error {result}).");
        }
        return true;
    }

    /// <summary>
    /// One thread per core, never more than lanes: the output depends on the lanes only, and libargon2 starts its threads
    /// afresh for each of the 12 slices of t=3, so 4 threads on 2 cores cost start-ups and switching for nothing
    /// (t=3, 64 MiB, p=4 on 2 cores, one process per derivation: median 70 ms with 2 threads, 97 ms with 4).
    /// </summary>
    private static uint ThreadsFor(int lanes) => (uint)Math.Clamp(Environment.ProcessorCount, 1, lanes);

    private static (IntPtr HashRaw, IntPtr Context) Load()
    {
        try
        {
            foreach (string name in Names)
            {
                if (NativeLibrary.TryLoad(name, typeof(NativeArgon2id).Assembly, null, out IntPtr library)
                    && NativeLibrary.TryGetExport(library, "argon2id_hash_raw", out IntPtr hashRaw))
                {
                    return (hashRaw, NativeLibrary.TryGetExport(library, "argon2_ctx", out IntPtr context) ? context : IntPtr.Zero);
                }
            }
        }
        catch (PlatformNotSupportedException)
        {
            // No native libraries at all (the browser): the managed implementation serves.
        }
        return (IntPtr.Zero, IntPtr.Zero);
    }

    /// <summary>argon2.h's <c>argon2_context</c> (its layout since 2016: pointers with 32-bit lengths, then the costs and the hooks).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Argon2Context
    {
        public byte* Out;
        public uint OutLength;
        public byte* Password;
        public uint PasswordLength;
        public byte* Salt;
        public uint SaltLength;
        public byte* Secret;
        public uint SecretLength;
        public byte* AssociatedData;
        public uint AssociatedDataLength;
        public uint TimeCost;
        public uint MemoryCost;
        public uint Lanes;
        public uint Threads;
        public uint Version;
        public delegate* unmanaged<byte**, nuint, int> Allocate;
        public delegate* unmanaged<byte*, nuint, void> Free;
        public uint Flags;
    }
}
