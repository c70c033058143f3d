using System.Security.Cryptography;
using System.Text;
using Mpc.Client.Custody;
using Mpc.Crypto.Curves;

namespace Mpc.Client.Tests.Custody;

/// <summary>
/// Key files to import, malformed on purpose and by mutation (<see cref="Mutations"/>): every one is refused with
/// <see cref="MpcSignerException"/> in one line, or imports the key it was made from.
/// </summary>
public sealed class ImportedKeyFuzzTests
{
    private const string Password = "import pass";

    private static readonly PbeParameters CheapPbes2 = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1);

    private static MpcSignerException Refusal(string pem, string password = "") =>
        Assert.Throws<MpcSignerException>(() => ImportedKeyReader.Read(Encoding.ASCII.GetBytes(pem), password.AsSpan(), "key.pem"));

    private static string Pem(string label, byte[] der) => new string(PemEncoding.Write(label, der)) + "\n";

    [Theory]
    [InlineData("PRIVATE KEY")]
    [InlineData("EC PRIVATE KEY")]
    [InlineData("ENCRYPTED PRIVATE KEY")]
    public void A_private_key_block_with_an_empty_body_is_corrupt(string label)
    {
        MpcSignerException e = Refusal($"-----BEGIN {label}-----\n-----END {label}-----\n", Password);
        Assert.Equal(MpcErrorReason.ImportCorrupt, e.Reason);
        CustodyTestData.AssertOneLine(e);
    }

    [Fact]
    public void A_public_key_PEM_with_an_empty_body_is_a_format_error()
    {
        FormatException e = Assert.Throws<FormatException>(
            () => PublicKeyEncoding.FromPem(EcCurve.Get(CurveKind.P256), "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(0x01)]
    [InlineData(0x07)]
    [InlineData(0x08)]
    [InlineData(0xFF)]
    public void A_SEC1_key_whose_public_key_BIT_STRING_has_bad_padding_is_corrupt(byte padBits)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] sec1 = key.ExportECPrivateKey();
        // [1] { BIT STRING (66 bytes: pad count, then 04 || x || y) }: the pad count is the byte after "03 42".
        int bitString = sec1.AsSpan().IndexOf(new byte[] { 0x03, 0x42, 0x00, 0x04 });
        Assert.True(bitString > 0);
        sec1[bitString + 2] = padBits;

        MpcSignerException e = Refusal(Pem("EC PRIVATE KEY", sec1));
        Assert.Equal(MpcErrorReason.ImportCorrupt, e.Reason);
        CustodyTestData.AssertOneLine(e);
    }

    [Fact]
    public void A_certificate_whose_key_BIT_STRING_has_bad_padding_is_a_corrupt_certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Padded", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        byte[] der = certificate.RawData;
        // The subject public key: BIT STRING of 66 bytes (pad count 0, then 04 || x || y); one pad bit claimed.
        int bitString = der.AsSpan().IndexOf(new byte[] { 0x03, 0x42, 0x00, 0x04 });
        Assert.True(bitString > 0);
        der[bitString + 2] = 0x01;

        MpcSignerException e = Refusal(Pem("PRIVATE KEY", key.ExportPkcs8PrivateKey()) + Pem("CERTIFICATE", der));
        Assert.Equal(MpcErrorReason.ImportCorrupt, e.Reason);
        CustodyTestData.AssertOneLine(e);
    }

    [Theory]
    [InlineData(new byte[] { 0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x04, 0x0B }, "scrypt")]
    [InlineData(new byte[] { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x7F }, "an unknown PKCS#5 OID")]
    [InlineData(new byte[] { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D }, "PBES2 itself")]
    public void An_encrypted_PKCS8_key_whose_PBES2_KDF_is_not_PBKDF2_is_an_unsupported_algorithm(byte[] kdfOid, string what)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] encrypted = key.ExportEncryptedPkcs8PrivateKey(Password, CheapPbes2);
        byte[] pbkdf2 = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C];
        int at = encrypted.AsSpan().IndexOf(pbkdf2);
        Assert.True(at > 0);
        kdfOid.CopyTo(encrypted, at);

        MpcSignerException e = Refusal(Pem("ENCRYPTED PRIVATE KEY", encrypted), Password);
        Assert.True(e.Reason == MpcErrorReason.UnsupportedAlgorithm, $"{what}: {e.Reason}: {e.Message}");
        CustodyTestData.AssertOneLine(e);
    }

    /// <summary>The key and the files that hold it, in every format the reader takes (the mutations are of their DER).</summary>
    private static (byte[] PublicKey, List<(string Name, string Label, byte[] Der)> Files) Originals()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        ECParameters parameters = key.ExportParameters(false);
        byte[] publicKey = [(byte)(0x02 | (parameters.Q.Y![^1] & 1)), .. parameters.Q.X!];
        return (publicKey,
        [
            ("PKCS#8", "PRIVATE KEY", key.ExportPkcs8PrivateKey()),
            ("SEC1", "EC PRIVATE KEY", key.ExportECPrivateKey()),
            ("encrypted PKCS#8", "ENCRYPTED PRIVATE KEY", key.ExportEncryptedPkcs8PrivateKey(Password, CheapPbes2)),
            ("PKCS#12", "", Pkcs12(key)),
        ]);
    }

    private static byte[] Pkcs12(ECDsa key)
    {
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Fuzz", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var builder = new System.Security.Cryptography.Pkcs.Pkcs12Builder();
        var keys = new System.Security.Cryptography.Pkcs.Pkcs12SafeContents();
        keys.AddShroudedKey(key, Password, CheapPbes2);
        var certificates = new System.Security.Cryptography.Pkcs.Pkcs12SafeContents();
        certificates.AddCertificate(certificate);
        builder.AddSafeContentsUnencrypted(keys);
        builder.AddSafeContentsEncrypted(certificates, Password, CheapPbes2);
        builder.SealWithMac(Password, HashAlgorithmName.SHA256, 1);
        return builder.Encode();
    }

    [Fact]
    public void Mutated_key_files_are_refused_in_one_line_or_import_the_original_key()
    {
        (byte[] publicKey, List<(string Name, string Label, byte[] Der)> files) = Originals();
        foreach ((string name, string label, byte[] der) in files)
        {
            using ImportedKey original = Read(label, der);
            Assert.Equal(publicKey, original.PublicKey);
        }
        var mutations = new Mutations("imported key files");
        foreach ((string name, Mutant mutant) in mutations.Of([.. files.Select(f => (f.Name, f.Der))], Mutations.Iterations(200) * files.Count))
        {
            string label = files.Single(f => f.Name == name).Label;
            mutations.Check(mutant, der =>
            {
                using ImportedKey imported = Read(label, der);
                // An unencrypted key carries no integrity: a mutated scalar is another valid key (its stored public key,
                // when there is one, must then match it). Everything protected imports as the original or not at all.
                if (name is "PKCS#8" or "SEC1")
                {
                    Assert.Equal(EcCurve.Get(imported.Curve).PointLength, imported.PublicKey.Length);
                }
                else
                {
                    Assert.Equal(publicKey, imported.PublicKey);
                }
            }, e => e is MpcSignerException { Message: var m } && !m.Contains('\n', StringComparison.Ordinal), name);
        }
    }

    [Fact]
    public void Mutated_PEM_text_is_refused_in_one_line_or_imports_the_original_key()
    {
        (byte[] publicKey, List<(string Name, string Label, byte[] Der)> files) = Originals();
        var mutations = new Mutations("imported PEM text");
        List<(string, byte[])> texts = [.. files.Where(f => f.Label != "").Select(f => (f.Name, Encoding.ASCII.GetBytes(Pem(f.Label, f.Der))))];
        foreach ((string name, Mutant mutant) in mutations.Of(texts, Mutations.Iterations(200) * texts.Count))
        {
            mutations.Check(mutant, text =>
            {
                using ImportedKey imported = ImportedKeyReader.Read(text, Password.AsSpan(), "key.pem");
                if (name == "encrypted PKCS#8")
                {
                    Assert.Equal(publicKey, imported.PublicKey);
                }
            }, e => e is MpcSignerException { Message: var m } && !m.Contains('\n', StringComparison.Ordinal), name);
        }
    }

    private static ImportedKey Read(string label, byte[] der) =>
        ImportedKeyReader.Read(label == "" ? der : Encoding.ASCII.GetBytes(Pem(label, der)), Password.AsSpan(), "key.pem");
}
