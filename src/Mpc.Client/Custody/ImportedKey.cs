using System.Security.Cryptography;
using Mpc.Crypto.Curves;

namespace Mpc.Client.Custody;

/// <summary>The container an imported key came in.</summary>
public enum ImportedKeyFormat
{
    Pkcs12 = 1,
    Pkcs8Pem,
    EncryptedPkcs8Pem,
    Sec1Pem,
}

/// <summary>
/// An EC private key read from a PKCS#12 or PEM file, checked: one of our curves, scalar in [1, q-1], public key
/// d·G, and a leaf certificate (if any) for that same key. The scalar lives in a buffer zeroed on <see cref="Dispose"/>.
/// </summary>
public sealed class ImportedKey : IDisposable
{
    private readonly byte[] _scalar;
    private readonly byte[] _publicKey;
    private bool _disposed;

    internal ImportedKey(CurveKind curve, byte[] scalar, byte[] publicKey, IReadOnlyList<ReadOnlyMemory<byte>> certificateChain, ImportedKeyFormat format)
    {
        Curve = curve;
        _scalar = scalar;
        _publicKey = publicKey;
        CertificateChain = certificateChain;
        Format = format;
    }

    public CurveKind Curve { get; }

    public ImportedKeyFormat Format { get; }

    /// <summary>The public key d·G, compressed SEC1 (a copy).</summary>
    public byte[] PublicKey => _publicKey.ToArray();

    /// <summary>DER certificates, leaf (the key's own certificate) first, then the other certificates in file order; empty when the file had none.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> CertificateChain { get; }

    /// <summary>The private scalar d, big-endian, exactly the curve's scalar length. Valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> PrivateScalar
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _scalar;
        }
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_scalar);
        _disposed = true;
    }

    public override string ToString() => $"ImportedKey({EcCurve.NameOf(Curve)}, {Convert.ToHexStringLower(_publicKey)}, {CertificateChain.Count} certificate(s))";
}
