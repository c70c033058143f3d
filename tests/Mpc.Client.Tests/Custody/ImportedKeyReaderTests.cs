using System.Diagnostics;
using System.Text;
using Mpc.Client.Custody;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Asn1.X509;
using static Mpc.Client.Tests.Custody.CustodyTestData;
using Mpc.Client;

namespace Mpc.Client.Tests.Custody;

/// <summary>Real key files, made by the openssl command line at test time, in one directory per test class.</summary>
public sealed class OpenSslFiles : IDisposable
{
    public const string Password = "p12 pass word";

    private readonly TempDirectory _dir = new();

    public OpenSslFiles()
    {
        // SEC1 "EC PRIVATE KEY" (openssl ecparam), PKCS#8 (genpkey), encrypted PKCS#8.
        Run("ecparam", "-name", "secp256k1", "-genkey", "-noout", "-out", "k1.sec1.pem");
        Run("pkcs8", "-topk8", "-nocrypt", "-in", "k1.sec1.pem", "-out", "k1.pk8.pem");
        Run("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "k1.sec1.pem", "-passout", $"pass:{Password}", "-out", "k1.enc.pem");
        Run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "p256.pem");
        Run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.pem");
        Run("ecparam", "-name", "prime256v1", "-genkey", "-out", "p256.with-params.pem");

        // A CA on P-384 and a leaf for the P-256 key, so PKCS#12 holds a real chain.
        Run("req", "-x509", "-new", "-key", "p384.pem", "-subj", "/CN=Test CA", "-days", "2", "-out", "ca.crt");
        Run("req", "-new", "-key", "p256.pem", "-subj", "/CN=Alice", "-out", "leaf.csr");
        Run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "p384.pem", "-CAcreateserial", "-days", "2", "-out", "leaf.crt");
        Run("req", "-x509", "-new", "-key", "k1.sec1.pem", "-subj", "/CN=Bob", "-days", "2", "-out", "k1.crt");
        Run("pkcs12", "-export", "-inkey", "p256.pem", "-in", "leaf.crt", "-certfile", "ca.crt", "-passout", $"pass:{Password}", "-out", "p256.p12");
        Run("pkcs12", "-export", "-legacy", "-inkey", "k1.sec1.pem", "-in", "k1.crt", "-passout", $"pass:{Password}", "-out", "k1.legacy.p12");
        Run("pkcs12", "-export", "-inkey", "k1.sec1.pem", "-in", "k1.crt", "-passout", $"pass:{Password}", "-out", "k1.p12");
        Run("pkcs12", "-export", "-nokeys", "-in", "leaf.crt", "-passout", $"pass:{Password}", "-out", "certs-only.p12");

        // Keys we must refuse.
        Run("genrsa", "-out", "rsa.pem", "2048");
        Run("rsa", "-in", "rsa.pem", "-traditional", "-out", "rsa.traditional.pem");
        Run("req", "-x509", "-new", "-key", "rsa.pem", "-subj", "/CN=Rsa", "-days", "2", "-out", "rsa.crt");
        Run("pkcs12", "-export", "-inkey", "rsa.pem", "-in", "rsa.crt", "-passout", $"pass:{Password}", "-out", "rsa.p12");
        Run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1", "-out", "brainpool.pem");
        Run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521", "-out", "p521.pem");
        Run("genpkey", "-algorithm", "ed25519", "-out", "ed25519.pem");
        Run("ec", "-in", "p256.pem", "-param_enc", "explicit", "-out", "p256.explicit.pem");
        Run("ec", "-in", "k1.sec1.pem", "-aes256", "-passout", $"pass:{Password}", "-out", "k1.legacy-encrypted.pem");
    }

    public byte[] Bytes(string name) => File.ReadAllBytes(_dir.File(name));

    public string Text(string name) => File.ReadAllText(_dir.File(name));

    /// <summary>The compressed public key as openssl computes it (last bytes of the compressed SubjectPublicKeyInfo).</summary>
    public byte[] PublicKey(string keyFile, int pointLength)
    {
        Run("pkey", "-in", keyFile, "-pubout", "-outform", "DER", "-ec_conv_form", "compressed", "-out", keyFile + ".pub.der");
        return Bytes(keyFile + ".pub.der")[^pointLength..];
    }

    /// <summary>The private scalar as openssl prints it ("priv:" hex lines), left-padded to <paramref name="length"/>.</summary>
    public byte[] Scalar(string keyFile, int length)
    {
        string text = Run("pkey", "-in", keyFile, "-noout", "-text");
        int start = text.IndexOf("priv:", StringComparison.Ordinal) + 5;
        int end = text.IndexOf("pub:", start, StringComparison.Ordinal);
        string hex = new(text[start..end].Where(Uri.IsHexDigit).ToArray());
        byte[] bytes = Convert.FromHexString(hex.Length % 2 == 1 ? "0" + hex : hex);
        return bytes.Length >= length ? bytes[^length..] : [.. new byte[length - bytes.Length], .. bytes];
    }

    public string Write(string name, string text)
    {
        File.WriteAllText(_dir.File(name), text);
        return name;
    }

    public string Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl")
        {
            WorkingDirectory = _dir.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed: {stderr}");
        }
        return stdout.Result;
    }

    public void Dispose() => _dir.Dispose();
}

public sealed class ImportedKeyReaderTests(OpenSslFiles files) : IClassFixture<OpenSslFiles>
{
    private const string Password = OpenSslFiles.Password;

    private ImportedKey Read(string name, string password = "") => ImportedKeyReader.Read(files.Bytes(name), password, name);

    private MpcSignerException Refused(string name, string password = "") => Refused(files.Bytes(name), name, password);

    private static MpcSignerException Refused(byte[] bytes, string name, string password = "")
    {
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => ImportedKeyReader.Read(bytes, password, name).Dispose());
        AssertOneLine(e);
        Assert.DoesNotContain(Password, e.Message);
        return e;
    }

    public static TheoryData<string, string, CurveKind, string, ImportedKeyFormat> Readable => new()
    {
        { "k1.sec1.pem", "", CurveKind.Secp256k1, "k1.sec1.pem", ImportedKeyFormat.Sec1Pem },
        { "k1.pk8.pem", "", CurveKind.Secp256k1, "k1.sec1.pem", ImportedKeyFormat.Pkcs8Pem },
        { "k1.enc.pem", Password, CurveKind.Secp256k1, "k1.sec1.pem", ImportedKeyFormat.EncryptedPkcs8Pem },
        { "p256.pem", "", CurveKind.P256, "p256.pem", ImportedKeyFormat.Pkcs8Pem },
        { "p384.pem", "", CurveKind.P384, "p384.pem", ImportedKeyFormat.Pkcs8Pem },
        { "p256.with-params.pem", "", CurveKind.P256, "p256.with-params.pem", ImportedKeyFormat.Sec1Pem },
        { "p256.p12", Password, CurveKind.P256, "p256.pem", ImportedKeyFormat.Pkcs12 },
        { "k1.p12", Password, CurveKind.Secp256k1, "k1.sec1.pem", ImportedKeyFormat.Pkcs12 },
        { "k1.legacy.p12", Password, CurveKind.Secp256k1, "k1.sec1.pem", ImportedKeyFormat.Pkcs12 },
        // A password given for an unencrypted key is not an error.
        { "p256.pem", "unneeded", CurveKind.P256, "p256.pem", ImportedKeyFormat.Pkcs8Pem },
    };

    [Theory]
    [MemberData(nameof(Readable))]
    public void Reads_the_scalar_and_public_key_openssl_sees(string name, string password, CurveKind curve, string keyFile, ImportedKeyFormat format)
    {
        int scalarLength = EcCurve.Get(curve).ScalarLength;
        using ImportedKey key = Read(name, password);

        Assert.Equal(curve, key.Curve);
        Assert.Equal(format, key.Format);
        Assert.Equal(files.Scalar(keyFile, scalarLength), key.PrivateScalar.ToArray());
        Assert.Equal(files.PublicKey(keyFile, EcCurve.Get(curve).PointLength), key.PublicKey);
        Assert.Equal(key.PublicKey, EcCurve.Get(curve).EncodePoint(EcCurve.Get(curve).MultiplyBase(EcCurve.Get(curve).DecodeScalar(key.PrivateScalar, "d"))));
    }

    [Fact]
    public void Pkcs12_chain_is_leaf_first_then_the_ca()
    {
        using ImportedKey key = Read("p256.p12", Password);

        Assert.Equal(2, key.CertificateChain.Count);
        Assert.Equal("CN=Alice", Subject(key.CertificateChain[0]));
        Assert.Equal("CN=Test CA", Subject(key.CertificateChain[1]));
    }

    [Fact]
    public void Pem_with_certificates_keeps_them_in_file_order()
    {
        string name = files.Write("bundle.pem", files.Text("p256.pem") + files.Text("leaf.crt") + files.Text("ca.crt"));
        using ImportedKey key = Read(name);

        Assert.Equal(["CN=Alice", "CN=Test CA"], key.CertificateChain.Select(Subject));
    }

    [Fact]
    public void Key_without_certificates_has_an_empty_chain()
    {
        using ImportedKey key = Read("p384.pem");
        Assert.Empty(key.CertificateChain);
    }

    [Fact]
    public void Certificate_for_another_key_is_refused()
    {
        string name = files.Write("mismatch.pem", files.Text("p256.pem") + files.Text("k1.crt"));
        MpcSignerException e = Refused(name);

        Assert.Equal(MpcErrorReason.CertificateMismatch, e.Reason);
        Assert.Equal("mismatch.pem's certificate (CN=Bob) is for another key than the private key in the file", e.Message);
    }

    [Fact]
    public void Leaf_on_another_curve_is_refused()
    {
        // The CA certificate certifies the P-384 key: given first, it is the leaf and does not match the P-256 key.
        string name = files.Write("wrong-leaf.pem", files.Text("p256.pem") + files.Text("ca.crt"));
        Assert.Equal(MpcErrorReason.CertificateMismatch, Refused(name).Reason);
    }

    [Fact]
    public void Wrong_pkcs12_password_says_so()
    {
        MpcSignerException e = Refused("p256.p12", "not the password");
        Assert.Equal(MpcErrorReason.ImportWrongPassword, e.Reason);
        Assert.Equal("wrong password for p256.p12's PKCS#12", e.Message);
    }

    [Fact]
    public void Wrong_password_for_a_legacy_pkcs12_says_so()
    {
        Assert.Equal(MpcErrorReason.ImportWrongPassword, Refused("k1.legacy.p12", "not the password").Reason);
    }

    [Fact]
    public void Missing_pkcs12_password_asks_for_it()
    {
        MpcSignerException e = Refused("p256.p12");
        Assert.Equal(MpcErrorReason.ImportPasswordRequired, e.Reason);
    }

    [Fact]
    public void Wrong_and_missing_password_for_encrypted_pkcs8()
    {
        Assert.Equal(MpcErrorReason.ImportWrongPassword, Refused("k1.enc.pem", "not the password").Reason);
        MpcSignerException missing = Refused("k1.enc.pem");
        Assert.Equal(MpcErrorReason.ImportPasswordRequired, missing.Reason);
        Assert.Equal("k1.enc.pem's private key is encrypted: give its password", missing.Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.1)]
    public void Truncated_pkcs12_is_corrupt_not_a_wrong_password(double fraction)
    {
        byte[] bytes = files.Bytes("p256.p12");
        MpcSignerException e = Refused(bytes[..(int)(bytes.Length * fraction)], "cut.p12", Password);
        Assert.Equal(MpcErrorReason.ImportCorrupt, e.Reason);
    }

    [Fact]
    public void Truncated_pem_is_corrupt()
    {
        string text = files.Text("p256.pem");
        string name = files.Write("cut.pem", text[..(text.Length / 2)]);
        Assert.Equal(MpcErrorReason.ImportCorrupt, Refused(name).Reason);
    }

    [Fact]
    public void Pem_with_a_damaged_key_body_is_corrupt()
    {
        string text = files.Text("p256.pem");
        int body = text.IndexOf('\n') + 1;
        string name = files.Write("damaged.pem", text[..body] + "AAAA" + text[(body + 4)..]);
        Assert.Equal(MpcErrorReason.ImportCorrupt, Refused(name).Reason);
    }

    [Theory]
    [InlineData("rsa.pem")]
    [InlineData("rsa.traditional.pem")]
    [InlineData("rsa.p12")]
    public void Rsa_keys_are_refused_with_the_documented_message(string name)
    {
        MpcSignerException e = Refused(name, name.EndsWith(".p12", StringComparison.Ordinal) ? Password : "");
        Assert.Equal(MpcErrorReason.RsaKey, e.Reason);
        Assert.StartsWith("RSA keys cannot be imported yet: only EC keys on P-256, P-384 and secp256k1", e.Message);
    }

    [Theory]
    [InlineData("brainpool.pem", "brainpoolP256r1")]
    [InlineData("p521.pem", "secp521r1 (P-521)")]
    public void Unsupported_curves_are_named(string name, string curve)
    {
        MpcSignerException e = Refused(name);
        Assert.Equal(MpcErrorReason.ImportUnsupportedCurve, e.Reason);
        Assert.Equal($"{name}'s key is on {curve}; only P-256, P-384 and secp256k1 keys can be imported", e.Message);
    }

    [Fact]
    public void Explicit_curve_parameters_are_refused()
    {
        Assert.Equal(MpcErrorReason.ImportUnsupportedCurve, Refused("p256.explicit.pem").Reason);
    }

    [Fact]
    public void Ed25519_is_another_algorithm()
    {
        MpcSignerException e = Refused("ed25519.pem");
        Assert.Equal(MpcErrorReason.UnsupportedAlgorithm, e.Reason);
        Assert.Contains("Ed25519", e.Message);
    }

    [Fact]
    public void Legacy_pem_encryption_points_to_the_conversion()
    {
        Assert.Equal(MpcErrorReason.LegacyPemEncryption, Refused("k1.legacy-encrypted.pem", Password).Reason);
    }

    [Fact]
    public void File_without_a_private_key_says_so()
    {
        Assert.Equal(MpcErrorReason.NoPrivateKey, Refused("leaf.crt").Reason);
        Assert.Equal(MpcErrorReason.NoPrivateKey, Refused("certs-only.p12", Password).Reason);
    }

    [Fact]
    public void Several_private_keys_are_refused()
    {
        string name = files.Write("two.pem", files.Text("p256.pem") + files.Text("p384.pem"));
        MpcSignerException e = Refused(name);
        Assert.Equal(MpcErrorReason.SeveralPrivateKeys, e.Reason);
        Assert.Equal("two.pem holds 2 private keys; export the one to import into a file of its own", e.Message);
    }

    [Fact]
    public void Stored_public_key_that_is_not_d_times_g_is_inconsistent()
    {
        // Splice the public key of one SEC1 key into another: same structure, wrong point.
        byte[] a = Der(files.Text("k1.sec1.pem"));
        string otherName = files.Write("k1b.pem", "");
        files.Run("ecparam", "-name", "secp256k1", "-genkey", "-noout", "-out", otherName);
        byte[] b = Der(files.Text(otherName));
        // SEC1 for secp256k1 from openssl: the last 65 bytes are the uncompressed public point.
        a.AsSpan(a.Length - 65).Clear();
        b.AsSpan(b.Length - 65).CopyTo(a.AsSpan(a.Length - 65));
        string name = files.Write("spliced.pem", new string(System.Security.Cryptography.PemEncoding.Write("EC PRIVATE KEY", a)));

        Assert.Equal(MpcErrorReason.InconsistentKey, Refused(name).Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello world")]
    public void Other_files_are_refused(string text)
    {
        MpcSignerException e = Refused(Encoding.UTF8.GetBytes(text), "x.bin");
        Assert.True(e.Reason is MpcErrorReason.ImportCorrupt or MpcErrorReason.UnrecognisedFormat);
    }

    [Fact]
    public void Dispose_zeroes_the_scalar_and_forbids_reading_it()
    {
        ImportedKey key = Read("p256.pem");
        key.Dispose();
        Assert.Throws<ObjectDisposedException>(() => key.PrivateScalar.Length);
        Assert.DoesNotContain(Convert.ToHexStringLower(files.Scalar("p256.pem", 32)), key.ToString());
    }

    private static string Subject(ReadOnlyMemory<byte> der) =>
        X509CertificateStructure.GetInstance(der.ToArray()).Subject.ToString();

    private static byte[] Der(string pem)
    {
        var fields = System.Security.Cryptography.PemEncoding.Find(pem);
        return Convert.FromBase64String(pem[fields.Base64Data]);
    }
}
