using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;

namespace Mpc.Client.Tests.Custody;

internal static class CustodyTestData
{
    /// <summary>Cheap Argon2id (t=1, 1 MiB, p=1) with the minimum lowered to match, as the key-file tests do.</summary>
    public static KeyFileOptions Cheap => Mpc.Client.Tests.KeyStore.KeyStoreFixture.Cheap;

    /// <summary>A valid compressed public key on <paramref name="kind"/> (any key: the share itself is opaque here).</summary>
    public static byte[] RandomPublicKey(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        return curve.EncodePoint(curve.MultiplyBase(curve.RandomScalar()));
    }

    public static void AssertOneLine(Exception e)
    {
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
    }
}
