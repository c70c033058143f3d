using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Protocol.Keys;

namespace Mpc.Protocol.Tests;

/// <summary>
/// Key share exports write their secrets into one buffer that never grows (growth abandons uncleared copies of x1, x2,
/// p and q) and is zeroed, and still write exactly the bytes the plain encoding writes.
/// </summary>
[Collection("engine")]
public sealed class KeyShareExportTests(EngineFixture engine)
{
    // The longest ids a share may carry: with them every export is well past a default writer's 256 bytes.
    private static readonly string LongKeyId = new('k', ProtocolLimits.MaxKeyIdLength);
    private static readonly string LongDeviceId = new('d', ProtocolLimits.MaxKeyIdLength);

    public static TheoryData<CurveKind> Curves => [CurveKind.P256, CurveKind.Secp256k1, CurveKind.P384];

    [Theory]
    [MemberData(nameof(Curves))]
    public void A_client_share_export_never_grows_its_writer_and_keeps_its_bytes(CurveKind curve)
    {
        ClientKeyShare original = engine.Key(curve).Client;
        foreach (bool signable in new[] { true, false })
        {
            // Not disposed: it holds the original's x2.
            var share = new ClientKeyShare(LongKeyId, curve, original.X2, original.Paillier, original.EncryptedServerShare, original.PublicKey,
                signable ? original.ServerRingPedersen : null, LongDeviceId);

            // Through WireWriter.ToSecretArray, which throws rather than grow: an export that returns never grew.
            byte[] exported = share.ExportSecret();

            Assert.Equal(PlainEncoding(share), exported);
            using ClientKeyShare imported = ClientKeyShare.ImportSecret(exported, engine.Backend);
            Assert.Equal((LongKeyId, LongDeviceId, curve, signable), (imported.KeyId, imported.DeviceId, imported.Curve, imported.CanSign));
            Assert.Equal(share.X2, imported.X2);
        }
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void A_server_share_export_and_its_final_check_key_never_grow_their_writer_and_keep_their_bytes(CurveKind curve)
    {
        ServerKeyShare original = engine.Key(curve).Server;
        // Not disposed: it shares the original's Paillier key.
        var share = new ServerKeyShare(LongKeyId, curve, original.X1, original.Paillier, original.EncryptedShare, original.PublicKey);

        // Both through WireWriter.ToSecretArray, which throws rather than grow.
        byte[] exported = share.ExportSecret();
        byte[] finalCheckKey = share.FinalCheckKey;

        Assert.Equal(PlainEncoding(share), exported);
        Assert.Equal(PlainFinalCheckKey(share), finalCheckKey);
        using ServerKeyShare imported = ServerKeyShare.ImportSecret(exported, engine.Backend);
        Assert.Equal((LongKeyId, curve, share.X1), (imported.KeyId, imported.Curve, imported.X1));
        Assert.Equal(finalCheckKey, imported.FinalCheckKey);
    }

    /// <summary>The export as the plain, growing writer wrote it before secrets had a writer of their own.</summary>
    private static byte[] PlainEncoding(ClientKeyShare share)
    {
        EcCurve curve = EcCurve.Get(share.Curve);
        var writer = new WireWriter()
            .WriteUInt32(share.CanSign ? 3u : 2u)
            .WriteString(share.KeyId)
            .WriteUInt32((uint)share.Curve)
            .WriteBytes(curve.EncodeScalar(share.X2))
            .WriteBytes(share.Paillier.N.ToByteArray())
            .WriteBytes(share.EncryptedServerShare.ToByteArray())
            .WriteBytes(curve.EncodePoint(share.PublicKey))
            .WriteString(share.DeviceId);
        if (share.ServerRingPedersen is { } ringPedersen)
        {
            writer.WriteBytes(ringPedersen.S.ToByteArray()).WriteBytes(ringPedersen.T.ToByteArray());
        }
        return writer.ToArray();
    }

    private static byte[] PlainEncoding(ServerKeyShare share)
    {
        EcCurve curve = EcCurve.Get(share.Curve);
        return new WireWriter()
            .WriteUInt32(1)
            .WriteString(share.KeyId)
            .WriteUInt32((uint)share.Curve)
            .WriteBytes(curve.EncodeScalar(share.X1))
            .WriteBytes(share.Paillier.P.ToByteArray())
            .WriteBytes(share.Paillier.Q.ToByteArray())
            .WriteBytes(share.EncryptedShare.ToByteArray())
            .WriteBytes(curve.EncodePoint(share.PublicKey))
            .ToArray();
    }

    private static byte[] PlainFinalCheckKey(ServerKeyShare share)
    {
        byte[] secrets = new WireWriter()
            .WriteBytes(EcCurve.Get(share.Curve).EncodeScalar(share.X1))
            .WriteBytes(share.Paillier.P.ToByteArray())
            .WriteBytes(share.Paillier.Q.ToByteArray())
            .ToArray();
        byte[] info = new WireWriter().WriteString("mpc-signer/final-check-marker/v1").WriteString(share.KeyId).ToArray();
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, secrets, 32, [], info);
    }
}
