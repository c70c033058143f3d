using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Math;

namespace Mpc.Client;

/// <summary>
/// An <see cref="ECDsa"/> backed by a split key: <see cref="SignHash(byte[])"/> runs the two-party protocol
/// with the server, so it plugs into <c>SignedCms</c>, <c>CertificateRequest</c> and anything else that
/// takes an <see cref="ECDsa"/>. The private key cannot be exported: no party has it.
/// </summary>
public sealed class MpcECDsa : ECDsa
{
    private readonly IMpcSignerClient _client;
    private readonly MpcKey _key;
    private readonly EcCurve _curve;

    /// <summary>Signs with <paramref name="key"/> through <paramref name="client"/> (usually <see cref="IMpcSignerClient.CreateECDsa"/> makes it).</summary>
    public MpcECDsa(IMpcSignerClient client, MpcKey key)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(key);
        _client = client;
        _key = key;
        _curve = EcCurve.Get(key.Curve);
        KeySizeValue = _curve.Order.BitLength;
        LegalKeySizesValue = [new KeySizes(KeySizeValue, KeySizeValue, 0)];
    }

    /// <summary>Signs with the server; blocks the calling thread (prefer <see cref="MpcSignerClient.SignDigestAsync"/> in async code).</summary>
    public override byte[] SignHash(byte[] hash) =>
        _client.SignDigestAsync(_key, hash).GetAwaiter().GetResult().ToP1363();

    public override bool VerifyHash(byte[] hash, byte[] signature)
    {
        if (signature.Length != 2 * _curve.ScalarLength)
        {
            return false;
        }
        var r = new BigInteger(1, signature, 0, _curve.ScalarLength);
        var s = new BigInteger(1, signature, _curve.ScalarLength, _curve.ScalarLength);
        return _curve.Verify(_key.PublicPoint, Digest.Parse(hash), r, s);
    }

    /// <summary>DER signatures go through the project's strict parser (<see cref="EcdsaDer"/>): BER forms do not verify.</summary>
    protected override bool VerifyHashCore(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature, DSASignatureFormat signatureFormat)
    {
        if (signatureFormat != DSASignatureFormat.Rfc3279DerSequence)
        {
            return VerifyHash(hash.ToArray(), signature.ToArray());
        }
        try
        {
            (BigInteger r, BigInteger s) = EcdsaDer.Decode(signature, _curve);
            return _curve.Verify(_key.PublicPoint, Digest.Parse(hash), r, s);
        }
        catch (Mpc.Crypto.MpcProtocolException)
        {
            return false;
        }
    }

    /// <summary>The public key's parameters (<see cref="MpcKey.ExportParameters"/>); asking for the private part throws.</summary>
    public override ECParameters ExportParameters(bool includePrivateParameters) => includePrivateParameters
        ? throw new CryptographicException("A split key has no private key to export.")
        : _key.ExportParameters();

    public override ECParameters ExportExplicitParameters(bool includePrivateParameters) =>
        throw new PlatformNotSupportedException("Only named-curve parameters are exported.");

    public override void ImportParameters(ECParameters parameters) =>
        throw new NotSupportedException("A split key cannot import parameters.");

    public override void GenerateKey(ECCurve curve) =>
        throw new NotSupportedException("Create split keys with MpcSignerClient.CreateKeyAsync.");

    public override byte[] ExportSubjectPublicKeyInfo() => _key.SubjectPublicKeyInfo;

    protected override byte[] HashData(byte[] data, int offset, int count, HashAlgorithmName hashAlgorithm) =>
        CryptographicOperations.HashData(hashAlgorithm, data.AsSpan(offset, count));

    protected override byte[] HashData(Stream data, HashAlgorithmName hashAlgorithm) =>
        CryptographicOperations.HashData(hashAlgorithm, data);
}
