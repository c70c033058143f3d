using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using CryptographicOperations = System.Security.Cryptography.CryptographicOperations;

namespace Mpc.Protocol.Keys;

/// <summary>
/// The client's (P2's) half of a key: x2, the server's Paillier public key, c_key, the joint public key Q and
/// the server's ring-Pedersen parameters (proven at key generation or refresh) that every c3 proof is made against.
/// Never printed; exported only as bytes that the caller must encrypt before storing and zero afterwards.
/// </summary>
/// <remarks>
/// Public as an opaque handle that the SDK hands out and takes back (key id, device, curve, public key as bytes,
/// <see cref="CanSign"/>, export, <see cref="Dispose"/>; the SDK imports it, with its own arithmetic choice). Its BouncyCastle-typed parts (Q as a point, the
/// Paillier key, c_key, the ring-Pedersen parameters) are internal: the protocol sessions use them, and the SDK
/// (Mpc.Client, through InternalsVisibleTo) for signing precomputation; no public signature shows a BouncyCastle type.
/// </remarks>
public sealed class ClientKeyShare : IDisposable
{
    /// <summary>The device id of shares made before devices existed: every key's first device.</summary>
    public const string PrimaryDevice = "primary";

    /// <summary>Version 3 adds the server's ring-Pedersen (s, t); versions 1 and 2 still import but cannot sign.</summary>
    private const uint ExportVersion = 3;
    private BigInteger _x2;

    internal ClientKeyShare(
        string keyId, CurveKind curve, BigInteger x2, PaillierPublicKey paillier, BigInteger encryptedServerShare, ECPoint publicKey,
        RingPedersenParameters? serverRingPedersen, string deviceId = PrimaryDevice)
    {
        KeyId = keyId;
        DeviceId = deviceId;
        Curve = curve;
        _x2 = x2;
        Paillier = paillier;
        EncryptedServerShare = encryptedServerShare;
        PublicKey = publicKey;
        ServerRingPedersen = serverRingPedersen;
    }

    public string KeyId { get; }

    /// <summary>Which of the key's devices this share belongs to; the server keeps one share pair per device.</summary>
    public string DeviceId { get; }

    /// <summary>The public name of this share pair (<see cref="ShareIds"/>); it changes with every refresh.</summary>
    public byte[] ShareId => (byte[])(_shareId ??= ShareIds.Of(Paillier.N, EncryptedServerShare)).Clone();

    private byte[]? _shareId;

    public CurveKind Curve { get; }

    /// <summary>The joint public key Q = x1·x2·G as a DER SubjectPublicKeyInfo (what <c>ECDsa.ImportSubjectPublicKeyInfo</c> reads); a fresh copy.</summary>
    public byte[] SubjectPublicKeyInfo => PublicKeyEncoding.ToSubjectPublicKeyInfo(EcCurve.Get(Curve), PublicKey);

    /// <summary>The joint public key Q as a compressed SEC1 point, the form custody identities (backup, handover) carry; a fresh copy.</summary>
    public byte[] EncodedPublicKey => EcCurve.Get(Curve).EncodePoint(PublicKey);

    /// <summary>The joint public key Q = x1·x2·G.</summary>
    internal ECPoint PublicKey { get; }

    /// <summary>The server's Paillier public key; precompute encryption randomness against it.</summary>
    internal PaillierPublicKey Paillier { get; }

    /// <summary>c_key = Enc(x1), proven at key generation to encrypt the discrete log of Q1.</summary>
    internal BigInteger EncryptedServerShare { get; }

    /// <summary>
    /// The server's ring-Pedersen parameters (N̂ = N, s, t), checked with Πprm when this share was made. Null for
    /// shares exported before signing proofs existed (versions 1 and 2): such a share must be refreshed before it signs.
    /// </summary>
    internal RingPedersenParameters? ServerRingPedersen { get; }

    /// <summary>False for a share made before signing proofs existed; <c>mpc refresh</c> makes it signable again.</summary>
    public bool CanSign => ServerRingPedersen is not null;

    /// <summary>The parameters every c3 proof needs; refuses a share made before signing proofs, before anything is sent.</summary>
    internal RingPedersenParameters RequireSigningParameters() => ServerRingPedersen
        ?? throw new MpcProtocolException(MpcErrorCode.InvalidRingPedersenParameters,
            $"The client share of key '{KeyId}' predates signing proofs and cannot sign: refresh it first (mpc refresh, or MpcSignerClient.RefreshKeyAsync), then sign with the refreshed share.");

    internal BigInteger X2 => _x2.SignValue != 0 ? _x2 : throw new ObjectDisposedException(nameof(ClientKeyShare));

    /// <summary>
    /// Serialises the share for encrypted storage. The caller zeroes the returned buffer. A share without the
    /// server's ring-Pedersen parameters (imported from version 1 or 2) is written back as version 2.
    /// </summary>
    public byte[] ExportSecret()
    {
        EcCurve curve = EcCurve.Get(Curve);
        byte[] x2 = curve.EncodeScalar(X2);
        byte[] publicKey = curve.EncodePoint(PublicKey);
        try
        {
            // Written into a buffer sized to fit, zeroed before this returns: no copy of x2 is left behind.
            return WireWriter.ToSecretArray(writer =>
            {
                writer.WriteUInt32(ServerRingPedersen is null ? 2 : ExportVersion)
                    .WriteString(KeyId)
                    .WriteUInt32((uint)Curve)
                    .WriteBytes(x2)
                    .WriteBigInteger(Paillier.N)
                    .WriteBigInteger(EncryptedServerShare)
                    .WriteBytes(publicKey)
                    .WriteString(DeviceId);
                if (ServerRingPedersen is { } ringPedersen)
                {
                    writer.WriteBigInteger(ringPedersen.S).WriteBigInteger(ringPedersen.T);
                }
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(x2);
        }
    }

    /// <summary>Rebuilds a share from <see cref="ExportSecret"/> output.</summary>
    internal static ClientKeyShare ImportSecret(ReadOnlySpan<byte> data, IBigNumBackend backend)
    {
        var reader = new WireReader(data);
        uint version = reader.ReadUInt32("version");
        if (version is not (1 or 2 or ExportVersion))
        {
            throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Unsupported client key share version.");
        }
        string keyId = reader.ReadString("key id", ProtocolLimits.MaxKeyIdLength);
        EcCurve curve = EcCurve.ReadFrom(ref reader);
        BigInteger x2 = curve.DecodeScalar(reader.ReadBytes("x2"), "x2");
        var paillier = new PaillierPublicKey(reader.ReadBigInteger("N", ProtocolLimits.MaxModulusBits), backend);
        BigInteger encryptedShare = reader.ReadBigInteger("c_key", ProtocolLimits.MaxCiphertextBits);
        paillier.RequireCiphertext(encryptedShare, "c_key");
        ECPoint publicKey = curve.DecodePoint(reader.ReadBytes("Q"), "Q");
        // Version 1 predates devices: such a share is its key's first device.
        string deviceId = version == 1 ? PrimaryDevice : reader.ReadString("device id", ProtocolLimits.MaxKeyIdLength);
        // Versions 1 and 2 predate signing proofs: no ring-Pedersen parameters, so the share must be refreshed to sign.
        RingPedersenParameters? ringPedersen = version < ExportVersion ? null : new RingPedersenParameters(
            paillier.N,
            reader.ReadBigInteger("ring-Pedersen s", paillier.BitLength),
            reader.ReadBigInteger("ring-Pedersen t", paillier.BitLength));
        reader.EnsureEnd("client key share");
        if (!DeviceIds.IsValid(deviceId))
        {
            throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Malformed client key share: bad device id.");
        }
        ringPedersen?.Validate();
        return new ClientKeyShare(keyId, curve.Kind, x2, paillier, encryptedShare, publicKey, ringPedersen, deviceId);
    }

    public void Dispose() => _x2 = BigInteger.Zero;

    public override string ToString() => $"ClientKeyShare({KeyId}, {DeviceId}, {EcCurve.NameOf(Curve)})";
}
