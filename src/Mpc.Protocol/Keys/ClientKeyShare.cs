using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Protocol.Keys;

/// <summary>
/// The client's (P2's) half of a key: x2, the server's Paillier public key, c_key and the joint public key Q.
/// Never printed; exported only as bytes that the caller must encrypt before storing and zero afterwards.
/// </summary>
public sealed class ClientKeyShare : IDisposable
{
    /// <summary>The device id of shares made before devices existed: every key's first device.</summary>
    public const string PrimaryDevice = "primary";

    private const uint ExportVersion = 2;
    private BigInteger _x2;

    internal ClientKeyShare(string keyId, CurveKind curve, BigInteger x2, PaillierPublicKey paillier, BigInteger encryptedServerShare, ECPoint publicKey, string deviceId = PrimaryDevice)
    {
        KeyId = keyId;
        DeviceId = deviceId;
        Curve = curve;
        _x2 = x2;
        Paillier = paillier;
        EncryptedServerShare = encryptedServerShare;
        PublicKey = publicKey;
    }

    public string KeyId { get; }

    /// <summary>Which of the key's devices this share belongs to; the server keeps one share pair per device.</summary>
    public string DeviceId { get; }

    /// <summary>The public name of this share pair (<see cref="ShareIds"/>); it changes with every refresh.</summary>
    public byte[] ShareId => (byte[])(_shareId ??= ShareIds.Of(Paillier.N, EncryptedServerShare)).Clone();

    private byte[]? _shareId;

    public CurveKind Curve { get; }

    /// <summary>The joint public key Q = x1·x2·G.</summary>
    public ECPoint PublicKey { get; }

    /// <summary>The server's Paillier public key; precompute encryption randomness against it.</summary>
    public PaillierPublicKey Paillier { get; }

    /// <summary>c_key = Enc(x1), proven at key generation to encrypt the discrete log of Q1.</summary>
    public BigInteger EncryptedServerShare { get; }

    internal BigInteger X2 => _x2.SignValue != 0 ? _x2 : throw new ObjectDisposedException(nameof(ClientKeyShare));

    /// <summary>Serialises the share for encrypted storage. The caller zeroes the returned buffer.</summary>
    public byte[] ExportSecret()
    {
        EcCurve curve = EcCurve.Get(Curve);
        return new WireWriter()
            .WriteUInt32(ExportVersion)
            .WriteString(KeyId)
            .WriteUInt32((uint)Curve)
            .WriteBytes(curve.EncodeScalar(X2))
            .WriteBigInteger(Paillier.N)
            .WriteBigInteger(EncryptedServerShare)
            .WriteBytes(curve.EncodePoint(PublicKey))
            .WriteString(DeviceId)
            .ToArray();
    }

    /// <summary>Rebuilds a share from <see cref="ExportSecret"/> output.</summary>
    public static ClientKeyShare ImportSecret(ReadOnlySpan<byte> data, IBigNumBackend backend)
    {
        var reader = new WireReader(data);
        uint version = reader.ReadUInt32("version");
        if (version is not (1 or ExportVersion))
        {
            throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Unsupported client key share version.");
        }
        string keyId = reader.ReadString("key id", ProtocolLimits.MaxKeyIdLength);
        EcCurve curve = EcCurve.Get((CurveKind)reader.ReadUInt32("curve"));
        BigInteger x2 = curve.DecodeScalar(reader.ReadBytes("x2"), "x2");
        var paillier = new PaillierPublicKey(reader.ReadBigInteger("N", ProtocolLimits.MaxModulusBits), backend);
        BigInteger encryptedShare = reader.ReadBigInteger("c_key", ProtocolLimits.MaxCiphertextBits);
        paillier.RequireCiphertext(encryptedShare, "c_key");
        ECPoint publicKey = curve.DecodePoint(reader.ReadBytes("Q"), "Q");
        // Version 1 predates devices: such a share is its key's first device.
        string deviceId = version == 1 ? PrimaryDevice : reader.ReadString("device id", ProtocolLimits.MaxKeyIdLength);
        reader.EnsureEnd("client key share");
        if (!DeviceIds.IsValid(deviceId))
        {
            throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Malformed client key share: bad device id.");
        }
        return new ClientKeyShare(keyId, curve.Kind, x2, paillier, encryptedShare, publicKey, deviceId);
    }

    public void Dispose() => _x2 = BigInteger.Zero;

    public override string ToString() => $"ClientKeyShare({KeyId}, {DeviceId}, {EcCurve.NameOf(Curve)})";
}
