using System.Runtime.InteropServices;

namespace Mpc.Client.KeyStore;

/// <summary>
/// Argon2id's working memory on Linux, mapped on a 2 MiB boundary and advised for transparent huge pages
/// (<c>madvise(MADV_HUGEPAGE)</c>, which the default <c>madvise</c> mode honours): 32 faults instead of 16 384 for
/// 64 MiB, measured about 20 ms less per derivation on a 2-core machine. libargon2 wipes the memory before it hands
/// it back (<see cref="Free"/>), so unmapping is all that is left. Where the kernel has no huge pages the advice is
/// ignored and the memory is ordinary.
/// </summary>
internal static unsafe class HugePageMemory
{
    private const nuint HugePage = 2 << 20;
    private const int ProtectReadWrite = 0x1 | 0x2;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private const int AdviseHugePage = 14;
    private const int Argon2MemoryAllocationError = -22;

    public static bool IsSupported => OperatingSystem.IsLinux() && (RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64);

    [UnmanagedCallersOnly]
    public static int Allocate(byte** memory, nuint length)
    {
        nuint total = length + HugePage;
        IntPtr mapped = MapAnonymous(IntPtr.Zero, total, ProtectReadWrite, MapPrivateAnonymous, -1, 0);
        if (mapped == -1)
        {
            *memory = null;
            return Argon2MemoryAllocationError;
        }
        byte* mapping = (byte*)mapped;
        byte* aligned = (byte*)(((nuint)mapping + HugePage - 1) & ~(HugePage - 1));
        // Only the aligned part stays mapped, so Free unmaps exactly what it is given.
        nuint head = (nuint)(aligned - mapping);
        if (head > 0)
        {
            _ = Unmap((IntPtr)mapping, head);
        }
        nuint tail = total - head - length;
        if (tail > 0)
        {
            _ = Unmap((IntPtr)(aligned + length), tail);
        }
        _ = Advise((IntPtr)aligned, length, AdviseHugePage);
        *memory = aligned;
        return 0;
    }

    [UnmanagedCallersOnly]
    public static void Free(byte* memory, nuint length)
    {
        if (memory != null)
        {
            _ = Unmap((IntPtr)memory, length);
        }
    }

    [DllImport("libc", EntryPoint = "mmap")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern IntPtr MapAnonymous(IntPtr address, nuint length, int protection, int flags, int descriptor, nint offset);

    [DllImport("libc", EntryPoint = "munmap")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Unmap(IntPtr address, nuint length);

    [DllImport("libc", EntryPoint = "madvise")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Advise(IntPtr address, nuint length, int advice);
}
