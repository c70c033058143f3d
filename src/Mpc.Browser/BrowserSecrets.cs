using System.Runtime.InteropServices.JavaScript;
using System.Runtime.Versioning;
using System.Security.Cryptography;

namespace Mpc.Browser;

/// <summary>
/// How secret bytes cross between .NET and the worker's JavaScript (wwwroot/mpc-worker.js, module <c>mpc-custody</c>).
/// Never as a marshalled <c>byte[]</c>: the runtime copies one into a buffer it allocates on the WebAssembly heap,
/// copies that again on the other side and frees the buffer without zeroing it, so neither side could wipe that copy.
/// Instead the other side reads or writes the .NET array itself through a <see cref="JSType.MemoryView"/> of it, valid
/// during one synchronous call: <see cref="Hand"/> lets the worker copy an array out (then zeroes it), <see cref="Take"/>
/// has the worker copy its bytes into a new array. The worker zeroes its own copies after use.
/// </summary>
[SupportedOSPlatform("browser")]
internal static partial class BrowserSecrets
{
    private const string ModuleName = "mpc-custody";

    /// <summary>
    /// Hands <paramref name="secret"/> to the worker, which copies it into its own Uint8Array during the call (and takes
    /// it before it next awaits), then zeroes <paramref name="secret"/>, also if the worker failed.
    /// </summary>
    public static unsafe void Hand(byte[] secret)
    {
        try
        {
            fixed (byte* pinned = secret)
            {
                ReceiveSecret(secret);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            RecordForTest(secret);
        }
    }

    /// <summary>
    /// The secret the worker is handing to this call (its <c>handToDotnet</c>), copied straight from its Uint8Array into
    /// a new array; the worker zeroes its copy once the call returns, and the caller zeroes the result.
    /// </summary>
    public static unsafe byte[] Take()
    {
        int length = SecretLength();
        if (length < 0)
        {
            throw new InvalidOperationException("The worker handed no secret to this call.");
        }
        byte[] secret = new byte[length];
        fixed (byte* pinned = secret)
        {
            CopySecretTo(secret);
        }
        RecordForTest(secret);
        return secret;
    }

    [JSImport("receiveSecret", ModuleName)]
    private static partial void ReceiveSecret([JSMarshalAs<JSType.MemoryView>] Span<byte> secret);

    [JSImport("secretLength", ModuleName)]
    private static partial int SecretLength();

    [JSImport("copySecretTo", ModuleName)]
    private static partial void CopySecretTo([JSMarshalAs<JSType.MemoryView>] Span<byte> target);

#if MPC_BROWSER_TEST_HOOKS
    private static readonly List<byte[]> Crossed = [];

    private static void RecordForTest(byte[] secret) => Crossed.Add(secret);

    /// <summary>Test builds only: how many arrays crossed (both ways) and how many of them are not all zeros now.</summary>
    public static (int Count, int NotZeroed) CrossedForTest() => (Crossed.Count, Crossed.Count(a => a.AsSpan().ContainsAnyExcept((byte)0)));
#else
    static partial void RecordForTest(byte[] secret);
#endif
}
