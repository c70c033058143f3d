using System.Runtime.InteropServices;

namespace Mpc.Server;

/// <summary>
/// Makes the calling thread yield the CPU to request work. .NET's <see cref="Thread.Priority"/> changes nothing on
/// Linux, so a background prime search there competes with a key generation on equal terms (on a 2-core node it
/// takes one of the two cores from the request that emptied the pool). Linux schedules threads by their own nice
/// value, so the thread sets its own to 19 (<c>setpriority(PRIO_PROCESS, gettid(), 19)</c>): it then runs on what the
/// requests leave idle. Raising one's own nice needs no privilege.
/// </summary>
internal static class BackgroundThreadPriority
{
    private const int LowestPriority = 19;

    /// <summary>Lowers the calling thread's priority: nice 19 on Linux, <see cref="ThreadPriority.Lowest"/> elsewhere. False when the OS refused.</summary>
    public static bool LowerCurrentThread()
    {
        Thread.CurrentThread.Priority = ThreadPriority.Lowest;
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }
        try
        {
            return Native.SetPriority(Native.PrioProcess, Native.GetThreadId(), LowestPriority) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static class Native
    {
        public const int PrioProcess = 0;

        [DllImport("libc", EntryPoint = "gettid")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int GetThreadId();

        [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int SetPriority(int which, int who, int priority);
    }
}
