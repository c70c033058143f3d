using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Protocol.Keys;

/// <summary>
/// The server's (P1's) half of a key: x1, the Paillier secret key, c_key = Enc(x1) and the joint public key Q.
/// Never printed; exported only as bytes that the caller must encrypt before storing and zero afterwards.
/// </summary>
public sealed class ServerKeyShare : IDisposable
{
    private const uint ExportVersion = 1;
    private const string FinalCheckKeyLabel = "mpc-signer/final-check-marker/v1";
    private BigInteger _x1;
    private SignatureVerifier? _verifier;
    private RingPedersenSecret? _ringPedersen;
    private ECPoint? _clientSharePoint;
    private byte[]? _finalCheckKey;

    internal ServerKeyShare(
        string keyId, CurveKind curve, BigInteger x1, PaillierPrivateKey paillier, BigInteger encryptedShare, ECPoint publicKey, RingPedersenSecret? ringPedersen = null)
    {
        KeyId = keyId;
        Curve = curve;
        _x1 = x1;
        Paillier = paillier;
        EncryptedShare = encryptedShare;
        PublicKey = publicKey;
        _ringPedersen = ringPedersen;
    }

    public string KeyId { get; }

    public CurveKind Curve { get; }

    /// <summary>The joint public key Q = x1·x2·G.</summary>
    public ECPoint PublicKey { get; }

    /// <summary>c_key = Enc(x1) under the server's Paillier key.</summary>
    public BigInteger EncryptedShare { get; }

    /// <summary>The public name of this share pair (<see cref="ShareIds"/>).</summary>
    public byte[] ShareId => ShareIds.Of(Paillier.PublicKey.N, EncryptedShare);

    /// <summary>Bit length of the Paillier modulus N: the decoding bound of every c3 and its proof for this key.</summary>
    public int PaillierModulusBits => Paillier.PublicKey.BitLength;

    internal PaillierPrivateKey Paillier { get; }

    /// <summary>The final check of every signature; built once per key.</summary>
    internal SignatureVerifier Verifier => _verifier ??= new SignatureVerifier(EcCurve.Get(Curve), PublicKey);

    /// <summary>
    /// The server's ring-Pedersen secret over its own N, against which the client proves every c3. Derived
    /// deterministically from the Paillier secret (nothing new is stored) once per loaded share.
    /// </summary>
    internal RingPedersenSecret RingPedersen
    {
        get
        {
            if (_ringPedersen is null)
            {
                RingPedersenSecret derived = RingPedersenSecret.DeriveFromPaillier(Paillier);
                if (Interlocked.CompareExchange(ref _ringPedersen, derived, null) is not null)
                {
                    derived.Dispose();
                }
            }
            return _ringPedersen!;
        }
    }

    /// <summary>Q2 = x1⁻¹·Q, the client's public share: every c3 proof is checked against r·Q2. Computed once per key.</summary>
    internal ECPoint ClientSharePoint => _clientSharePoint ??= ComputeClientSharePoint();

    /// <summary>
    /// The MAC key of this key's final-check markers (<see cref="Signing.FinalCheck.Tag"/>). Derived from x1 and the Paillier
    /// primes, so only a holder of the server's share can authenticate a marker: storage write access alone cannot make
    /// the server decrypt a c3 whose proof it never checked. Derived once per loaded share, zeroed on dispose.
    /// </summary>
    internal byte[] FinalCheckKey
    {
        get
        {
            if (_finalCheckKey is null)
            {
                byte[] derived = DeriveFinalCheckKey();
                if (Interlocked.CompareExchange(ref _finalCheckKey, derived, null) is not null)
                {
                    CryptographicOperations.ZeroMemory(derived);
                }
            }
            return _finalCheckKey!;
        }
    }

    internal BigInteger X1 => _x1.SignValue != 0 ? _x1 : throw new ObjectDisposedException(nameof(ServerKeyShare));

    /// <summary>Serialises every secret for encrypted storage. The caller zeroes the returned buffer.</summary>
    public byte[] ExportSecret()
    {
        EcCurve curve = EcCurve.Get(Curve);
        byte[] x1 = curve.EncodeScalar(X1);
        byte[] publicKey = curve.EncodePoint(PublicKey);
        try
        {
            // Written into a buffer sized to fit, zeroed before this returns: no copy of x1, p or q is left behind.
            return WireWriter.ToSecretArray(writer =>
            {
                writer.WriteUInt32(ExportVersion).WriteString(KeyId).WriteUInt32((uint)Curve).WriteBytes(x1);
                Paillier.WriteSecretTo(writer);
                writer.WriteBigInteger(EncryptedShare).WriteBytes(publicKey);
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(x1);
        }
    }

    /// <summary>Rebuilds a share from <see cref="ExportSecret"/> output, re-checking its consistency.</summary>
    public static ServerKeyShare ImportSecret(ReadOnlySpan<byte> data, IBigNumBackend backend)
    {
        var reader = new WireReader(data);
        if (reader.ReadUInt32("version") != ExportVersion)
        {
            throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Unsupported server key share version.");
        }
        string keyId = reader.ReadString("key id", ProtocolLimits.MaxKeyIdLength);
        EcCurve curve = EcCurve.ReadFrom(ref reader);
        BigInteger x1 = curve.DecodeScalar(reader.ReadBytes("x1"), "x1");
        var paillier = PaillierPrivateKey.ReadSecretFrom(ref reader, backend);
        BigInteger encryptedShare = reader.ReadBigInteger("c_key", ProtocolLimits.MaxCiphertextBits);
        ECPoint publicKey = curve.DecodePoint(reader.ReadBytes("Q"), "Q");
        reader.EnsureEnd("server key share");
        if (!paillier.Decrypt(encryptedShare).Equals(x1))
        {
            throw new MpcProtocolException(MpcErrorCode.MalformedMessage, "Server key share is inconsistent: c_key does not decrypt to x1.");
        }
        return new ServerKeyShare(keyId, curve.Kind, x1, paillier, encryptedShare, publicKey);
    }

    public void Dispose()
    {
        _x1 = BigInteger.Zero;
        Paillier.Dispose();
        _ringPedersen?.Dispose();
        _verifier?.Dispose();
        if (_finalCheckKey is { } macKey)
        {
            CryptographicOperations.ZeroMemory(macKey);
        }
    }

    private byte[] DeriveFinalCheckKey()
    {
        byte[] x1 = EcCurve.Get(Curve).EncodeScalar(X1);
        byte[]? secrets = null;
        try
        {
            secrets = WireWriter.ToSecretArray(writer =>
            {
                writer.WriteBytes(x1);
                Paillier.WriteSecretTo(writer);
            });
            byte[] info = new WireWriter().WriteString(FinalCheckKeyLabel).WriteString(KeyId).ToArray();
            byte[] macKey = new byte[32];
            HKDF.DeriveKey(HashAlgorithmName.SHA256, secrets, macKey, salt: [], info);
            return macKey;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secrets);
            CryptographicOperations.ZeroMemory(x1);
        }
    }

    private ECPoint ComputeClientSharePoint()
    {
        EcCurve curve = EcCurve.Get(Curve);
        // x1⁻¹ by Fermat (x1^(q-2)) through the constant-time path: x1 is the secret this proof protects.
        BigInteger inverse = Paillier.PublicKey.Backend.ModPow(X1, curve.Order.Subtract(BigInteger.Two), curve.Order);
        ECPoint q2 = curve.MultiplySecret(PublicKey, inverse);
        curve.ValidatePoint(q2, "Q2");
        return q2;
    }

    public override string ToString() => $"ServerKeyShare({KeyId}, {EcCurve.NameOf(Curve)})";
}
